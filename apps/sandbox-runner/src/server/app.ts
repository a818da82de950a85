/**
 * The `syscan-sandbox serve` Express app, without listening (tests mount it on port 0):
 * request logging and metrics, `/healthz`, `/metrics`, `POST /v1/exec`, and problem+json for
 * everything else. Slots, the guard and the run are in `admission.ts` and `exec-route.ts`.
 */
import type { DetectorConfig, Severity } from '@syscan/core';
import express, { type NextFunction, type Request, type Response } from 'express';
import { describeIsolation, type IsolationMode } from '../run.js';
import { Admission } from './admission.js';
import type { TokenAuth } from './auth.js';
import { type ExecRouteOptions, execRoute } from './exec-route.js';
import type { LogFn } from './log.js';
import { Metrics } from './metrics.js';
import { sendRunnerProblem } from './problems.js';

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
  /** Where clients' budgets and cooldowns live; a shared one (`new RedisStore({ url })`) makes several runners act as one. */
  store?: ExecRouteOptions['store'];
  /** Namespaces for every command; `/healthz` says which is in force. Defaults to `auto`. */
  isolation?: IsolationMode | undefined;
  /** CPUs every command runs on (see {@link ExecRouteOptions}). */
  cpus?: ExecRouteOptions['cpus'];
  /** Rules, monitor mode and the per-alert log of every run: see {@link ExecRouteOptions}. */
  rules?: ExecRouteOptions['rules'];
  dryRun?: ExecRouteOptions['dryRun'];
  alertLog?: ExecRouteOptions['alertLog'];
}

export interface SandboxApp {
  app: express.Express;
  metrics: Metrics;
  /** Stops new runs (503) and resolves when every command's processes are gone (killed after `graceMs`). */
  drain(graceMs: number): Promise<void>;
  /** Slots in use: admitted requests and commands whose processes are not all gone. */
  readonly inFlight: number;
}

export function createSandboxApp(o: SandboxAppOptions): SandboxApp {
  const metrics = new Metrics();
  const admission = new Admission(o.maxConcurrent);
  // What runs get, decided once: probing per health check would spawn a process each time.
  const isolation = describeIsolation(o.isolation ?? 'auto');
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // One log line and one metric per request, whatever answered it.
  app.use((req, res, next) => {
    const start = performance.now();
    res.on('finish', () => {
      const seconds = (performance.now() - start) / 1000;
      metrics.countResponse(res.statusCode);
      metrics.requestDuration.observe({ route: routeOf(req) }, seconds);
      o.log('request', {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(seconds * 1000),
        client: res.locals.client,
      });
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    if (admission.draining) {
      sendRunnerProblem(res, 503, 'shutting-down', 'Shutting down', 'the service is shutting down');
      return;
    }
    res.json({ status: 'ok', inFlight: admission.inUse, maxConcurrent: o.maxConcurrent, isolation });
  });

  const authenticate = (req: Request, res: Response, next: NextFunction): void => {
    if (!o.auth) {
      res.locals.client = `ip:${req.ip ?? 'unknown'}`;
      next();
      return;
    }
    const who = o.auth.check(req.get('authorization'));
    if (!who) {
      sendRunnerProblem(
        res,
        401,
        'unauthorized',
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

  app.get('/metrics', authenticate, async (_req, res) => {
    metrics.inFlight.set(admission.inUse);
    res.type(metrics.contentType).send(await metrics.render());
  });

  app.post('/v1/exec', ...execRoute({ ...o, admission, metrics }, authenticate));

  app.use((_req, res) => sendRunnerProblem(res, 404, 'not-found', 'Not found', 'no such endpoint'));
  // Body parser errors (malformed JSON, too large) and anything else: problem+json, never a stack.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; type?: string; message?: string };
    if (e.type === 'entity.too.large') {
      sendRunnerProblem(
        res,
        413,
        'invalid-request',
        'Body too large',
        `the body exceeds ${o.bodyLimit} bytes`,
        {
          field: '',
        },
      );
      return;
    }
    if (e.type === 'entity.parse.failed') {
      sendRunnerProblem(res, 400, 'invalid-request', 'Invalid request', 'the body is not valid JSON', {
        field: '',
      });
      return;
    }
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
    o.log('error', { error: e.message ?? String(err), status });
    const detail = status === 500 ? 'internal error' : (e.message ?? 'error');
    sendRunnerProblem(
      res,
      status,
      status === 500 ? 'internal-error' : 'invalid-request',
      'Request failed',
      detail,
    );
  });

  return {
    app,
    metrics,
    get inFlight() {
      return admission.inUse;
    },
    drain: (graceMs) => admission.drain(graceMs),
  };
}

/** The route label of a request: the known endpoints, else `other` (paths must not grow series). */
function routeOf(req: Request): string {
  const p = req.path;
  return p === '/v1/exec' || p === '/healthz' || p === '/metrics' ? p : 'other';
}
