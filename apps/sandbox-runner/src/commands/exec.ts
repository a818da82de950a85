import { Command, Option } from 'commander';
import { CPUS_HELP, parseCpuList } from '../exec/cpus.js';
import { ISOLATION_MODES, type IsolationMode } from '../exec/isolation.js';
import { loadPolicy, sequenceRateWarning } from '../exec/policy.js';
import { formatSummary } from '../exec/report.js';
import { collectFiles, loadRunRules, parseNetworks } from '../exec/rules.js';
import { runSandboxed } from '../exec/run.js';
import { DEFAULT_FAIL_ON, DEFAULT_MAX_OUTPUT_BYTES } from '../exec/types.js';
import { parseSeverity, SEVERITIES } from '../severity.js';
import { parsePositiveInt } from './numbers.js';

interface ExecFlags {
  enforce?: boolean;
  timeout?: number;
  config?: string;
  baseline?: string;
  json?: boolean;
  failOn: string;
  maxOutput: number;
  isolation: IsolationMode;
  cpus?: number[];
  rules: string[];
  defaultRules: boolean;
  egressAllow?: string[];
  dryRun?: boolean;
}

export function makeExecCommand(): Command {
  return new Command('exec')
    .description('run a command under strace, judge its syscalls live, optionally kill it on policy')
    .argument('<command...>', 'the command and its arguments (put them after --)')
    .option(
      '--enforce',
      "kill the whole process tree at the first alert at or above --fail-on or a rule alert whose action is 'kill'; refuse at entry what rules decided by syscall name deny or kill",
    )
    .option(
      '--dry-run',
      'monitor mode: compute enforcement but do not apply it; the result says what it would have killed or refused',
    )
    .option(
      '--rules <file>',
      'a Falco rules file judged after the shipped pack (repeat for more; append/override apply in order)',
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
        '--fail-on <severity>',
        `severity that makes --enforce kill (${SEVERITIES.join('|')})`,
      ).default(DEFAULT_FAIL_ON),
    )
    .option('--timeout <ms>', 'kill the whole process tree after this many milliseconds', (v) =>
      parsePositiveInt(v, '--timeout'),
    )
    .option(
      '--config <file>',
      'policy file (a detector config JSON, camelCase or snake_case; `syscan learn` output works); replaces the default policy',
    )
    .option(
      '--baseline <file>',
      'a learned baseline on top of the policy: its baselineSyscalls replace the policy’s, forbidden and dangerous lists only grow',
    )
    .addOption(
      new Option(
        '--isolation <mode>',
        'auto: own user/PID/mount namespaces (bwrap, else unshare), refuse to run without; none: no namespaces',
      )
        .choices(ISOLATION_MODES)
        .default('auto'),
    )
    .option('--cpus <list>', CPUS_HELP, (v) => parseCpuList(v))
    .option('--json', 'print the result as one JSON document on stdout (the command output is inside it)')
    .addOption(
      new Option('--max-output <bytes>', 'stdout/stderr bytes kept each')
        .default(DEFAULT_MAX_OUTPUT_BYTES)
        .argParser((v) => parsePositiveInt(v, '--max-output')),
    )
    .passThroughOptions()
    .action(async (argv: string[], flags: ExecFlags) => {
      const failOn = parseSeverity(flags.failOn);
      const policy = loadPolicy(flags.config, flags.baseline);
      const rules = loadRunRules({
        files: flags.rules,
        defaultRules: flags.defaultRules,
        egressAllow: flags.egressAllow,
      });
      const weakSequence = sequenceRateWarning(policy.config, failOn);
      for (const w of [...rules.warnings, ...(weakSequence === undefined ? [] : [weakSequence])])
        process.stderr.write(`syscan-sandbox: warning: ${w}\n`);
      const live = !flags.json;
      // Ctrl-C or a TERM reaches us, not the command (it runs in its own session): end the
      // whole run, report it, and exit, rather than die and leave the command running.
      const stop = new AbortController();
      const onSignal = (signal: NodeJS.Signals): void => stop.abort(`interrupted by ${signal}`);
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, onSignal);
      const result = await runSandboxed({
        signal: stop.signal,
        argv,
        policy: policy.config,
        enforce: flags.enforce,
        dryRun: flags.dryRun,
        failOn,
        rules: rules.rules,
        timeoutMs: flags.timeout,
        maxOutputBytes: flags.maxOutput,
        isolation: flags.isolation,
        cpus: flags.cpus,
        // A terminal stays with us: the command runs in its own process group and would stop on SIGTTIN.
        stdin: process.stdin.isTTY ? undefined : 'inherit',
        onStdout: live ? (c) => process.stdout.write(c) : undefined,
        onStderr: live ? (c) => process.stderr.write(c) : undefined,
      });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ policy: policy.source, ...result }, null, 2)}\n`);
      } else {
        process.stderr.write(formatSummary(result, process.stderr.isTTY === true && !process.env.NO_COLOR));
      }
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, onSignal);
      process.exitCode = result.status;
    });
}
