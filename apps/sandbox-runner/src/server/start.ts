/**
 * `syscan-sandbox serve` once its flags are parsed: checks them, builds the app, listens,
 * and drains on SIGTERM/SIGINT. Its own module, loaded only to serve, so that `exec` does
 * not load the HTTP stack (express, pino, prom-client) at every start.
 */
import type { Server } from 'node:http';
import { SyscanError } from '@syscan/core';
import type { ServeFlags } from '../commands/serve.js';
import { loadRunRules } from '../exec/rules.js';
import { loadPolicy, sequenceRateWarning } from '../policy.js';
import { describeIsolation } from '../run.js';
import { parseSeverity } from '../severity.js';
import { createSandboxApp } from './app.js';
import { isLoopback, TokenAuth } from './auth.js';
import { falcoAlertLog } from './falco-log.js';
import { jsonLogger } from './log.js';

export async function startServer(flags: ServeFlags): Promise<void> {
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
  const weakSequence = sequenceRateWarning(policy.config, failOn);
  if (weakSequence !== undefined) log('sequence_rate_warning', { warning: weakSequence });
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
    cpus: flags.cpus,
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
