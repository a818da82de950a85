/**
 * Rule files on the command line, shared by `syscan analyze` and `syscan rules`: the options
 * (`--no-default-rules`, `--egress-allow`), loading the shipped pack and the user's files in
 * order (Falco's append/override semantics are core's), and printing the loader's warnings.
 */
import { readFile } from 'node:fs/promises';
import {
  AGENT_TOOLS_RULES,
  egressAllowListRules,
  type LoadedRules,
  loadRules,
  type RuleSource,
} from '@syscan/core';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { CliContext } from './context.js';
import { fileError, usageError } from './errors.js';
import { printable } from './report/style.js';

export interface RuleFileOptions {
  defaultRules: boolean;
  egressAllow?: string[] | undefined;
}

export function ruleFileOptions(command: Command): Command {
  return command
    .option('--no-default-rules', "leave out syscan's agent-tools pack (loaded first otherwise)")
    .addOption(
      new Option(
        '--egress-allow <cidrs>',
        'comma-separated IPs/CIDRs: enables the egress rule, alerting on connects anywhere else',
      ).argParser((value) => {
        const list = value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        if (list.length === 0)
          throw new InvalidArgumentError('expected IPs or CIDR ranges such as 10.0.0.0/8');
        return list;
      }),
    );
}

/** The pack (unless turned off), then the user's files in order, then the allow-list overlay. */
export async function loadRuleFiles(files: readonly string[], opts: RuleFileOptions): Promise<LoadedRules> {
  const sources: RuleSource[] = opts.defaultRules ? [AGENT_TOOLS_RULES] : [];
  for (const path of files) {
    try {
      sources.push({ name: path, text: await readFile(path, 'utf8') });
    } catch (error) {
      throw fileError('read', path, error);
    }
  }
  if (opts.egressAllow !== undefined) {
    if (!opts.defaultRules)
      throw usageError('--egress-allow sets a list of the default rules; drop --no-default-rules');
    sources.push(egressAllowListRules(opts.egressAllow));
  }
  if (sources.length === 0) throw usageError('no rules: give rule files or keep the default rules');
  return loadRules(sources);
}

/** One `syscan: warning: …` line per loader warning (rule files are untrusted text: escaped). */
export function printWarnings(ctx: CliContext, loaded: LoadedRules): void {
  for (const w of loaded.warnings) ctx.io.stderr.write(`syscan: warning: ${printable(w.message, 400)}\n`);
}
