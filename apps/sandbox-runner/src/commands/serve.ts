import type { Server } from 'node:http';
import { SyscanError } from '@syscan/core';
import { Command, Option } from 'commander';
import { collectFiles, loadRunRules, parseNetworks } from '../exec/rules.js';
import { loadPolicy } from '../policy.js';
import {
  DEFAULT_FAIL_ON,
  DEFAULT_MAX_OUTPUT_BYTES,
  describeIsolation,
  ISOLATION_MODES,
  type IsolationMode,
} from '../run.js';
import { createSandboxApp } from '../server/app.js';
import { isLoopback, TokenAuth } from '../server/auth.js';
import { falcoAlertLog } from '../server/falco-log.js';
import { jsonLogger } from '../server/log.js';
import { parseSeverity, SEVERITIES } from '../severity.js';
import { parsePort, parsePositiveInt } from './numbers.js';

interface ServeFlags {
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
  rules: string[];
  defaultRules: boolean;
  egressAllow?: string[];
  dryRun?: boolean;
  logFormat: 'pino' | 'falco';
}

const int = (name: string) => (v: string) => parsePositiveInt(v, name);

export function makeServeCommand(): Command {
  return new Command('serve')
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
      new Option('--timeout <ms>', 'default timeoutMs of a run').default(30_000).argParser(int('--timeout')),
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
    .action(async (flags: ServeFlags) => {
      const isolation = describeIsolation(flags.isolation);
      if (isolation.unavailable !== undefined)
        throw new SyscanError('ERR_SYSCAN_SPAWN', isolation.unavailable, { reason: 'isolation_unavailable' });
      const failOn = parseSeverity(flags.failOn);
      let auth: TokenAuth | undefined;
      if (flags.auth) {
        if (!flags.tokenFile)
          throw new SyscanError(
            'ERR_SYSCAN_USAGE',
            'serve needs --token-file FILE (or --no-auth on a loopback --host)',
          );
        auth = TokenAuth.fromFile(flags.tokenFile);
      } else if (!isLoopback(flags.host)) {
        throw new SyscanError(
          'ERR_SYSCAN_USAGE',
          `--no-auth is only allowed on a loopback host, not ${flags.host}`,
        );
      }
      if (flags.timeout > flags.maxTimeout)
        throw new SyscanError('ERR_SYSCAN_USAGE', '--timeout must not exceed --max-timeout');
      const policy = loadPolicy(flags.policy);
      const log = jsonLogger();
      const rules = loadRunRules({
        files: flags.rules,
        defaultRules: flags.defaultRules,
        egressAllow: flags.egressAllow,
      });
      for (const warning of rules.warnings) log('rules_warning', { warning });
      const sandbox = createSandboxApp({
        policy: policy.config,
        auth,
        maxConcurrent: flags.maxConcurrent,
        defaultTimeoutMs: flags.timeout,
        maxTimeoutMs: flags.maxTimeout,
        enforce: flags.enforce,
        failOn,
        maxOutputBytes: flags.maxOutput,
        bodyLimit: flags.bodyLimit,
        guardMode: flags.guardMode,
        clientAlertBudget: flags.clientAlertBudget,
        clientCooldownSecs: 60,
        isolation: flags.isolation,
        rules: rules.rules,
        dryRun: flags.dryRun,
        alertLog: flags.logFormat === 'falco' ? falcoAlertLog(log) : undefined,
        log,
      });
      const server = await listen(sandbox.app, flags.host, flags.port);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : flags.port;
      log('listening', {
        host: flags.host,
        port,
        auth: auth ? 'bearer' : 'none',
        policy: policy.source,
        rules: rules.source,
        dryRun: flags.dryRun === true,
        logFormat: flags.logFormat,
        maxConcurrent: flags.maxConcurrent,
        isolation: isolation.tool ?? isolation.mode,
      });

      let stopping = false;
      const stop = async (signal: string): Promise<void> => {
        if (stopping) return;
        stopping = true;
        log('shutdown', { signal, inFlight: sandbox.inFlight, graceMs: flags.shutdownGrace });
        // Stop accepting; idle keep-alive connections go now, busy ones after their response.
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        await sandbox.drain(flags.shutdownGrace);
        server.closeIdleConnections();
        // A client that keeps a connection open past the deadline does not hold the process.
        const force = setTimeout(() => server.closeAllConnections(), 2_000);
        await closed;
        clearTimeout(force);
        log('stopped', {});
        process.exit(0);
      };
      process.once('SIGTERM', () => void stop('SIGTERM'));
      process.once('SIGINT', () => void stop('SIGINT'));
    });
}

function listen(app: import('express').Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new SyscanError('ERR_SYSCAN_CONFIG', `cannot listen on ${host}:${port}: ${e.code ?? e.message}`),
      ),
    );
  });
}
