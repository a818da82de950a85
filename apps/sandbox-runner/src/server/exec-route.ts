/**
 * `POST /v1/exec`: validate, admit, guard, run, answer. The run's own session decides the
 * verdict; the guard labels (and in block mode withholds) the answer with exactly that
 * verdict, and counts alerting runs against the client's budget.
 */
import { isSyscanError, type LoadedRule, type SessionSummary, type Severity } from '@syscan/core';
import { type SyscanGuardOptions, syscanGuard } from '@syscan/express-middleware';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { type ExecResult, type IsolationMode, runSandboxed } from '../run.js';
import type { Admission, Slot } from './admission.js';
import type { AlertLogFactory } from './falco-log.js';
import type { LogFn } from './log.js';
import type { Metrics, RunOutcome } from './metrics.js';
import { sendRunnerProblem } from './problems.js';
import { type ExecBody, isProblem, validateExecBody } from './validate.js';

export interface ExecRouteOptions {
  policy: import('@syscan/core').DetectorConfig;
  admission: Admission;
  metrics: Metrics;
  log: LogFn;
  defaultTimeoutMs: number;
  maxTimeoutMs: number;
  enforce: boolean;
  failOn: Severity;
  maxOutputBytes: number;
  bodyLimit: number;
  guardMode: 'block' | 'report';
  clientAlertBudget: number;
  clientCooldownSecs: number;
  commandPath?: string | undefined;
  /** Where clients' budgets and cooldowns live; a shared one (`new RedisStore({ url })`) makes several runners one. Defaults to the guard's in-memory store. */
  store?: SyscanGuardOptions['store'];
  /** Namespaces for every command (`auto`: refuse to run without them, unless `none`). */
  isolation?: IsolationMode | undefined;
  /** CPUs strace and every command run on (`--cpus`); default: all. */
  cpus?: readonly number[] | undefined;
  /** Rules every run is judged by (default: the shipped pack; `false`: none). */
  rules?: readonly LoadedRule[] | false | undefined;
  /** Monitor mode: enforcement computed, not applied; the answer's `dryRun` says what it would have done. */
  dryRun?: boolean | undefined;
  /** Where every alert of every run goes as it is found (`--log-format falco`). */
  alertLog?: AlertLogFactory | undefined;
}

/** The handler chain of the route, in order. */
export function execRoute(o: ExecRouteOptions, authenticate: RequestHandler): RequestHandler[] {
  const guard = syscanGuard({
    // The client's detector counts alerting runs: one alerting run is one alert batch.
    detector: {
      ...o.policy,
      maxAlertsPerMinute: o.clientAlertBudget,
      alertCooldownSecs: o.clientCooldownSecs,
      maxTotalEventsPerMinute: 0,
    },
    mode: o.guardMode,
    store: o.store,
    key: (req) => String(req.res?.locals.client ?? `ip:${req.ip}`),
    // The run's own verdict, never a re-parse of cut evidence lines.
    extract: (_payload, req) => req.res?.locals.runSummary as SessionSummary | undefined,
  });
  return [
    authenticate,
    requireJson,
    express.json({ limit: o.bodyLimit, strict: true }),
    validate(o.maxTimeoutMs),
    admit(o.admission),
    guard,
    run(o),
  ];
}

const requireJson: RequestHandler = (req, res, next) => {
  if (!req.is('application/json')) {
    sendRunnerProblem(
      res,
      415,
      'invalid-request',
      'Unsupported media type',
      'send the body as application/json',
      {
        field: '',
      },
    );
    return;
  }
  next();
};

function validate(maxTimeoutMs: number): RequestHandler {
  return (req, res, next) => {
    const body = validateExecBody(req.body, { maxTimeoutMs });
    if (isProblem(body)) {
      sendRunnerProblem(res, 400, 'invalid-request', 'Invalid request', body.detail, { field: body.field });
      return;
    }
    res.locals.execBody = body;
    next();
  };
}

/** Takes a slot before anything runs; a second is about the length of a short command. */
function admit(admission: Admission): RequestHandler {
  return (_req, res, next) => {
    const slot = admission.admit();
    if (slot === 'draining') {
      sendRunnerProblem(
        res,
        503,
        'shutting-down',
        'Shutting down',
        'the service is shutting down',
        {},
        {
          'Retry-After': 5,
        },
      );
      return;
    }
    if (slot === 'busy') {
      sendRunnerProblem(
        res,
        503,
        'busy',
        'Busy',
        `all ${admission.max} execution slots are in use`,
        {},
        {
          'Retry-After': 1,
        },
      );
      return;
    }
    res.locals.slot = slot;
    // A client that hangs up before its answer gets its command killed; the slot frees once
    // the command's processes are gone, not when the socket closes.
    res.once('close', () => {
      if (!res.writableFinished) slot.abort('client disconnected');
      else slot.release();
    });
    next();
  };
}

function run(o: ExecRouteOptions): (req: Request, res: Response, next: NextFunction) => Promise<void> {
  return async (_req, res) => {
    const body = res.locals.execBody as ExecBody;
    const slot = res.locals.slot as Slot;
    const client = res.locals.client as string;
    const started = performance.now();
    const alertLog = o.alertLog?.({ client, argv0: body.argv[0]! });
    const promise = runSandboxed({
      argv: body.argv,
      cwd: body.cwd,
      env: { PATH: o.commandPath ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', ...body.env },
      stdin: body.stdin ?? undefined,
      timeoutMs: body.timeoutMs ?? o.defaultTimeoutMs,
      enforce: body.enforce ?? o.enforce,
      dryRun: o.dryRun,
      failOn: o.failOn,
      rules: o.rules,
      onAlert: alertLog ? (a) => alertLog.alert(a) : undefined,
      policy: o.policy,
      maxOutputBytes: o.maxOutputBytes,
      isolation: o.isolation,
      cpus: o.cpus,
      signal: slot.signal,
    });
    slot.hold(promise);
    o.metrics.inFlight.set(o.admission.inUse);
    let result: ExecResult;
    try {
      result = await promise;
    } catch (error) {
      answerSetupError(o, res, error, client, body);
      return;
    } finally {
      o.metrics.inFlight.set(o.admission.inUse);
      alertLog?.end();
    }
    record(o, result, client, body, performance.now() - started);
    if (res.destroyed) return;
    const { summary, ...answer } = result as ExecResult & { summary?: SessionSummary };
    res.locals.runSummary = summary;
    res.status(200).json(answer);
  };
}

function record(o: ExecRouteOptions, result: ExecResult, client: string, body: ExecBody, ms: number): void {
  const m = o.metrics;
  m.executions.inc({ verdict: result.verdict });
  m.runs.inc({ outcome: outcomeOf(result) });
  for (const a of result.alerts)
    m.countAlerts(a.type, a.severity, (a as { occurrences?: number }).occurrences ?? 1);
  if (result.killed) m.kills.inc({ reason: result.killed.reason });
  m.duration.observe(result.durationMs / 1000);
  o.log('exec', {
    client,
    argv0: body.argv[0],
    argc: body.argv.length,
    status: result.status,
    verdict: result.verdict,
    alerts: result.alertsTotal,
    killed: result.killed?.reason,
    ...(result.dryRun ? { wouldKill: result.dryRun.wouldKill?.message ?? null } : {}),
    events: result.events,
    ms: Math.round(ms),
  });
}

function outcomeOf(result: ExecResult): RunOutcome {
  if (result.killed?.reason === 'timeout') return 'timeout';
  if (result.killed?.reason === 'aborted') return 'aborted';
  if (result.killed) return 'killed';
  return result.verdict === 'clean' ? 'clean' : 'alert';
}

function answerSetupError(
  o: ExecRouteOptions,
  res: Response,
  error: unknown,
  client: string,
  body: ExecBody,
): void {
  const reason = isSyscanError(error) ? error.reason : undefined;
  const message = isSyscanError(error) ? error.message : String(error);
  o.metrics.setupErrors.inc({ kind: reason ?? 'internal' });
  o.metrics.runs.inc({ outcome: 'setup_error' });
  o.log('exec_error', { client, argv0: body.argv[0], kind: reason ?? 'internal', error: message });
  if (res.destroyed) return;
  if (reason === 'command_not_found' || reason === 'exec_failed') {
    sendRunnerProblem(res, 422, 'command-not-runnable', 'Command not runnable', message, { field: 'argv/0' });
  } else if (isSyscanError(error) && error.code === 'ERR_SYSCAN_USAGE') {
    sendRunnerProblem(res, 400, 'invalid-request', 'Invalid request', message, { field: 'cwd' });
  } else if (isSyscanError(error)) {
    sendRunnerProblem(res, 503, 'sandbox-unavailable', 'Sandbox unavailable', message);
  } else {
    sendRunnerProblem(res, 500, 'internal-error', 'Internal error', 'the run failed inside the runner');
  }
}
