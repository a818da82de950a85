/**
 * Rule packs shipped with syscan, and the overlays their options turn into.
 */
import { SyscanError } from '../../errors.js';
import { parseCidr } from '../net.js';
import type { RuleSource } from '../types.js';

export { AGENT_TOOLS_RULES } from './agent-tools.generated.js';

/** The agent-tools rule that the egress allow-list turns on. */
export const EGRESS_RULE = 'Outbound connection not in egress allow-list';

/**
 * A rules source, loaded after the agent-tools pack, that fills its egress allow-list with
 * `networks` (IPs or CIDRs) and enables the rule that alerts on any other outbound address.
 * Loopback is always allowed. Throws a SyscanError naming the first entry that is not an
 * address or range.
 *
 * @example
 * loadRules([AGENT_TOOLS_RULES, egressAllowListRules(['10.0.0.0/8', '2001:db8::/32'])]);
 */
export function egressAllowListRules(networks: readonly string[]): RuleSource {
  for (const network of networks) {
    if (parseCidr(network) === undefined) {
      throw new SyscanError(
        'ERR_SYSCAN_CONFIG',
        `egress allow-list: '${network}' is not an IP address or CIDR range`,
      );
    }
  }
  // JSON is YAML: no quoting rules to get wrong.
  const items = [
    { list: 'agent_egress_allowed_networks', items: [...networks], override: { items: 'replace' } },
    { rule: EGRESS_RULE, enabled: true, override: { enabled: 'replace' } },
  ];
  return { name: 'syscan:egress-allow-list', text: JSON.stringify(items, null, 2) };
}
