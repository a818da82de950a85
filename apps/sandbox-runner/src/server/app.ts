import { type DetectorConfig, isSyscanError, type Severity } from '@syscan/core';
import { syscanGuard } from '@syscan/express-middleware';
import express, { type NextFunction, type Request, type Response } from 'express';
import { type ExecResult, runSandboxed } from '../run.js';
import { setupKind } from '../strace.js';
import type { TokenAuth } from './auth.js';
import type { LogFn } from './log.js';
import { Metrics } from './metrics.js';
import { RUNNER_PROBLEMS, sendProblem } from './problem.js';
import { type ExecBody, isProblem, validateExecBody } from './validate.js';

export interface SandboxAppOptions {
  /** The detector config every run is judged by. */
  policy: DetectorConfig;
  /** undefined = no auth (only allowed on loopback; the CLI checks). */
  auth?: TokenAuth | undefined;
  maxConcurrent: number;
  /** Default and ceiling of `timeoutMs`. */
  defaultTimeoutMs: number;
  maxTimeoutMs: number;
  /** Default of `enforce` when the request does not say. */
  enforce: boolean;
  failOn: Severity;
  maxOutputBytes: number;
  /** Request body limit (bytes). */
  bodyLimit: number;
  /** `block`: anomalous runs answer 403 with the alerts and no output; `report`: 200, labelled. */
  guardMode: 'block' | 'report';
  /** Alerting runs per client per minute before the client is cooled down (429). */
  clientAlertBudget: number;
  clientCooldownSecs: number;
  log: LogFn;
  /** PATH given to commands (their environment is only this plus the request's `env`). */
  commandPath?: string | undefined;
}

export interface SandboxApp {
  app: express.Express;
  metrics: Metrics;
  /** Stops new runs (503) and resolves when the running ones finished or were killed after `graceMs`. */
  drain(graceMs: number): Promise<void>;
  readonly inFlight: number;
}

/** The `syscan-sandbox serve` Express app, without listening (tests mount it on port 0). */
export function createSandboxApp(o: SandboxAppOptions): SandboxApp {
  const metrics = new Metrics();
  const running = new Set<{ abort: AbortController; done: Promise<unknown> }>();
  let draining = false;
  let admitted = 0;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // One log line and one metric per request, whatever answered it.
  app.use((req, res, next) => {
    const start = performance.now();
    res.on('finish', () => {
      metrics.responses.inc(String(res.statusCode));
      o.log('request', {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(performance.now() - start),
        client: res.locals.client,
      });
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    if (draining)
      return sendProblem(
        res,
        503,
        RUNNER_PROBLEMS.shuttingDown,
        'Shutting down',
        'the service is shutting down',
      );
    res.json({ status: 'ok', inFlight: running.size, maxConcurrent: o.maxConcurrent });
  });

  const authenticate = (req: Request, res: Response, next: NextFunction): void => {
    if (!o.auth) {
      res.locals.client = `ip:${req.ip ?? 'unknown'}`;
      next();
      return;
    }
    const who = o.auth.check(req.get('authorization'));
    if (!who) {
      sendProblem(
        res,
        401,
        RUNNER_PROBLEMS.unauthorized,
        'Unauthorized',
        'a valid bearer token is required',
        {},
        {
          'WWW-Authenticate': 'Bearer realm="syscan-sandbox"',
        },
      );
      return;
    }
    res.locals.client = who.id;
    next();
  };

  app.get('/metrics', authenticate, (_req, res) => {
    metrics.inFlight = running.size;
    res.type('text/plain; version=0.0.4').send(metrics.render());
  });

  const guard = syscanGuard({
    // The client's detector sees only the evidence lines of each run: one alerting run is
    // one alert batch, so the budget counts misbehaving runs per client.
    detector: {
      ...o.policy,
      maxAlertsPerMinute: o.clientAlertBudget,
      alertCooldownSecs: o.clientCooldownSecs,
      maxTotalEventsPerMinute: 0,
    },
    mode: o.guardMode,
    key: (req) => String(req.res?.locals.client ?? `ip:${req.ip}`),
    extract: (payload) => {
      const evidence = (payload as { evidence?: unknown } | null)?.evidence;
      return Array.isArray(evidence)
        ? (evidence.filter((e) => typeof e === 'string') as string[])
        : undefined;
    },
  });

  app.post(
    '/v1/exec',
    authenticate,
    (req, res, next) => {
      if (!req.is('application/json')) {
        return sendProblem(
          res,
          415,
          RUNNER_PROBLEMS.invalidRequest,
          'Unsupported media type',
          'send the body as application/json',
          {
            field: '',
          },
        );
      }
      next();
    },
    express.json({ limit: o.bodyLimit, strict: true }),
    (req, res, next) => {
      const body = validateExecBody(req.body, { maxTimeoutMs: o.maxTimeoutMs });
      if (isProblem(body)) {
        return sendProblem(res, 400, RUNNER_PROBLEMS.invalidRequest, 'Invalid request', body.detail, {
          field: body.field,
        });
      }
      res.locals.execBody = body;
      next();
    },
    (_req, res, next) => {
      if (draining) {
        return sendProblem(
          res,
          503,
          RUNNER_PROBLEMS.shuttingDown,
          'Shutting down',
          'the service is shutting down',
          {},
          {
            'Retry-After': '5',
          },
        );
      }
      // Full: refuse before anything runs; a second is about the length of a short command.
      if (admitted >= o.maxConcurrent) {
        return sendProblem(
          res,
          503,
          RUNNER_PROBLEMS.busy,
          'Busy',
          `all ${o.maxConcurrent} execution slots are in use`,
          {},
          {
            'Retry-After': '1',
          },
        );
      }
      // The slot is taken now (not when the command starts) and freed when the response is done.
      admitted++;
      res.once('close', () => admitted--);
      next();
    },
    guard,
    async (_req, res) => {
      const body = res.locals.execBody as ExecBody;
      const abort = new AbortController();
      const enforce = body.enforce ?? o.enforce;
      const client = res.locals.client as string;
      const promise = runSandboxed({
        argv: body.argv,
        cwd: body.cwd,
        env: { PATH: o.commandPath ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', ...body.env },
        stdin: body.stdin ?? undefined,
        timeoutMs: body.timeoutMs ?? o.defaultTimeoutMs,
        enforce,
        failOn: o.failOn,
        policy: o.policy,
        maxOutputBytes: o.maxOutputBytes,
        signal: abort.signal,
      });
      const entry = { abort, done: promise.catch(() => undefined) };
      running.add(entry);
      metrics.inFlight = running.size;
      let result: ExecResult;
      try {
        result = await promise;
      } catch (error) {
        const kind = setupKind(error);
        const message = isSyscanError(error) ? error.message : String(error);
        metrics.setupErrors.inc(kind ?? 'internal');
        o.log('exec_error', { client, argv0: body.argv[0], kind: kind ?? 'internal', error: message });
        if (kind === 'command_not_found' || kind === 'exec_failed') {
          return sendProblem(res, 422, RUNNER_PROBLEMS.commandNotRunnable, 'Command not runnable', message, {
            field: 'argv/0',
          });
        }
        if (isSyscanError(error) && error.code === 'ERR_SYSCAN_USAGE') {
          return sendProblem(res, 400, RUNNER_PROBLEMS.invalidRequest, 'Invalid request', message, {
            field: 'cwd',
          });
        }
        return sendProblem(res, 503, RUNNER_PROBLEMS.sandboxUnavailable, 'Sandbox unavailable', message);
      } finally {
        running.delete(entry);
        metrics.inFlight = running.size;
      }
      metrics.executions.inc(result.verdict);
      for (const a of result.alerts) metrics.alerts.inc(a.type, a.occurrences);
      if (result.killed) metrics.kills.inc(result.killed.reason);
      metrics.observeDuration(result.durationMs / 1000);
      o.log('exec', {
        client,
        argv0: body.argv[0],
        argc: body.argv.length,
        status: result.status,
        verdict: result.verdict,
        alerts: result.alertsTotal,
        killed: result.killed?.reason,
        events: result.events,
        ms: Math.round(result.durationMs),
      });
      res.status(200).json(result);
    },
  );

  app.use((_req, res) => sendProblem(res, 404, RUNNER_PROBLEMS.notFound, 'Not found', 'no such endpoint'));
  // Body parser errors (malformed JSON, too large) and anything else: problem+json, never a stack.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; type?: string; message?: string };
    if (e.type === 'entity.too.large') {
      return sendProblem(
        res,
        413,
        RUNNER_PROBLEMS.invalidRequest,
        'Body too large',
        `the body exceeds ${o.bodyLimit} bytes`,
        { field: '' },
      );
    }
    if (e.type === 'entity.parse.failed') {
      return sendProblem(
        res,
        400,
        RUNNER_PROBLEMS.invalidRequest,
        'Invalid request',
        'the body is not valid JSON',
        { field: '' },
      );
    }
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
    o.log('error', { error: e.message ?? String(err), status });
    sendProblem(
      res,
      status,
      RUNNER_PROBLEMS.invalidRequest,
      'Request failed',
      status === 500 ? 'internal error' : (e.message ?? 'error'),
    );
  });

  return {
    app,
    metrics,
    get inFlight() {
      return running.size;
    },
    async drain(graceMs: number) {
      draining = true;
      if (running.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const all = Promise.all([...running].map((r) => r.done));
      await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      for (const r of running) r.abort.abort();
      await all;
    },
  };
}
