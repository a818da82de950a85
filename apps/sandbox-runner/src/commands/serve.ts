import { Command, Option } from 'commander';
import { CPUS_HELP, parseCpuList } from '../exec/cpus.js';
import { collectFiles, parseNetworks } from '../exec/rules.js';
import { DEFAULT_FAIL_ON, DEFAULT_MAX_OUTPUT_BYTES, ISOLATION_MODES, type IsolationMode } from '../run.js';
import { SEVERITIES } from '../severity.js';
import { parsePort, parsePositiveInt } from './numbers.js';

export interface ServeFlags {
  host: string;
  port: number;
  tokenFile?: string;
  auth: boolean;
  maxConcurrent: number;
  policy?: string;
  timeout: number;
  maxTimeout: number;
  enforce: boolean;
  failOn: string;
  maxOutput: number;
  bodyLimit: number;
  guardMode: 'block' | 'report';
  clientAlertBudget: number;
  shutdownGrace: number;
  isolation: IsolationMode;
  cpus?: number[];
  rules: string[];
  defaultRules: boolean;
  egressAllow?: string[];
  dryRun?: boolean;
  logFormat: 'pino' | 'falco';
}

const int = (name: string) => (v: string) => parsePositiveInt(v, name);

export function makeServeCommand(): Command {
  return (
    new Command('serve')
      .description(
        'serve POST /v1/exec over HTTP: run argv under strace, judged by the policy, per-client guarded',
      )
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .addOption(new Option('--port <port>', 'port (0 = any free one)').default(8787).argParser(parsePort))
      .option(
        '--token-file <file>',
        'bearer tokens, one per line (required unless --no-auth on a loopback host)',
      )
      .option('--no-auth', 'no authentication (only allowed on a loopback --host)')
      .addOption(
        new Option('--max-concurrent <n>', 'commands running at once; more get 503')
          .default(4)
          .argParser(int('--max-concurrent')),
      )
      .option(
        '--policy <file>',
        "policy file (a DetectorConfig JSON); default: core's reviewed everyday policy",
      )
      .addOption(
        new Option('--timeout <ms>', 'default timeoutMs of a run')
          .default(30_000)
          .argParser(int('--timeout')),
      )
      .addOption(
        new Option('--max-timeout <ms>', 'largest timeoutMs a request may ask')
          .default(300_000)
          .argParser(int('--max-timeout')),
      )
      .option('--no-enforce', 'do not kill on alerts unless a request sets enforce: true')
      .option(
        '--dry-run',
        'monitor mode: compute enforcement but never apply it; each answer and exec log line says what it would have killed or refused',
      )
      .option(
        '--rules <file>',
        'a Falco rules file every run is judged by, after the shipped pack (repeat for more)',
        collectFiles,
        [] as string[],
      )
      .option('--no-default-rules', "leave out syscan's agent-tools rule pack")
      .option(
        '--egress-allow <cidrs>',
        "comma-separated IPs/CIDRs: turns on the pack's egress rule, alerting on connects anywhere else",
        parseNetworks,
      )
      .addOption(
        new Option(
          '--log-format <format>',
          'pino: the service log on stderr; falco: also every alert of every run as one Falco JSON line on stdout',
        )
          .choices(['pino', 'falco'])
          .default('pino'),
      )
      .addOption(
        new Option(
          '--fail-on <severity>',
          `severity that makes enforce kill (${SEVERITIES.join('|')})`,
        ).default(DEFAULT_FAIL_ON),
      )
      .addOption(
        new Option('--max-output <bytes>', 'stdout/stderr bytes kept each')
          .default(DEFAULT_MAX_OUTPUT_BYTES)
          .argParser(int('--max-output')),
      )
      .addOption(
        new Option('--body-limit <bytes>', 'request body limit')
          .default(1024 * 1024)
          .argParser(int('--body-limit')),
      )
      .addOption(
        new Option(
          '--guard-mode <mode>',
          'block: anomalous runs answer 403 without output; report: 200, labelled',
        )
          .choices(['block', 'report'])
          .default('block'),
      )
      .addOption(
        new Option(
          '--client-alert-budget <n>',
          'alerting runs per client per minute before it is refused (429)',
        )
          .default(10)
          .argParser(int('--client-alert-budget')),
      )
      .addOption(
        new Option(
          '--shutdown-grace <ms>',
          'on SIGTERM, how long running commands may finish before they are killed',
        )
          .default(10_000)
          .argParser(int('--shutdown-grace')),
      )
      .addOption(
        new Option(
          '--isolation <mode>',
          'auto: every command in its own user/PID/mount namespaces (bwrap, else unshare), refuse to start without; none: no namespaces',
        )
          .choices(ISOLATION_MODES)
          .default('auto'),
      )
      .option('--cpus <list>', `${CPUS_HELP} (every command)`, (v) => parseCpuList(v))
      // The HTTP stack (express, pino, prom-client) is loaded only to serve: `exec` starts
      // without it, which is most of its fixed start-up cost.
      .action(async (flags: ServeFlags) => {
        const { startServer } = await import('../server/start.js');
        await startServer(flags);
      })
  );
}
