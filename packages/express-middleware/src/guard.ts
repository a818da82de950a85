import { type AnalysisSession, createSession, DetectorRegistry, SyscanError } from '@syscan/core';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import {
  anomalyProblem,
  coolingDownProblem,
  handlerFailedProblem,
  inspectionFailedProblem,
  uninspectedProblem,
} from './guard-problems.js';
import { inspectPayload } from './inspect.js';
import { type Judge, ResponseWatch, type Withheld } from './intercept.js';
import { type ResolvedGuardOptions, resolveGuardOptions } from './options.js';
import { seconds, sendProblem } from './problem.js';
import type { GuardVerdict, SyscanGuardOptions } from './types.js';

/**
 * The middleware, with the per-client detectors it keeps (e.g. `registry.delete(key)` to
 * forgive a client) and its error path (`app.use(guard.errorHandler)` when the guard is
 * mounted with `app.use` rather than on a route, where it installs itself).
 */
export type SyscanGuard = RequestHandler & {
  readonly registry: DetectorRegistry;
  readonly errorHandler: ErrorRequestHandler;
};

/** Name of the response header that carries the verdict kind. */
export const VERDICT_HEADER = 'Syscan-Verdict';
const MAX_KEY_LENGTH = 1024;

/**
 * Guards a tool-execution route. Before the handler, a client whose detector is cooling
 * down gets 429 + `Retry-After`. After it, whatever the handler answers (`res.json`,
 * `res.send`, `writeHead`/`write`/`end`) is held until the telemetry in it has been judged
 * by the core session with that client's detector; the verdict goes to the
 * `Syscan-Verdict` header, `res.locals.syscan` and `onVerdict`, and in block mode an
 * anomalous (403), unreadable (502) or failed (500) response becomes a problem that
 * withholds the output.
 *
 * @example
 * app.post('/tools/shell', express.json(), syscanGuard({ detector: baseline }), runShell);
 */
export function syscanGuard(options?: SyscanGuardOptions): SyscanGuard {
  const o = resolveGuardOptions(options);
  const registry = new DetectorRegistry({
    config: o.detector,
    maxKeys: o.maxKeys,
    idleMs: o.idleMs,
    now: o.now,
  });
  const notify = notifier(o);
  const keepHeaders = new Set([...o.keepHeaders, VERDICT_HEADER.toLowerCase()]);
  /** Responses this guard is watching (for its error path). */
  const watches = new WeakMap<Response, ResponseWatch>();
  /** Routes it has installed its error path on. */
  const routes = new WeakSet<object>();

  const errorHandler: ErrorRequestHandler = function syscanGuardErrors(err, req, res, next) {
    const watch = watches.get(res);
    if (watch === undefined) return next(err);
    if (watch.withheld) return; // Already answered with a problem: nothing of the error goes out.
    if (!watch.pending || !o.block || !o.failClosed) return next(err);
    // The handler failed before answering: its error (and Express's page for it) may quote
    // the output, so the client gets only the status.
    const verdict: GuardVerdict = { kind: 'error', error: err };
    notify(verdict, req, res);
    watch.withhold({ problem: handlerFailedProblem(statusOf(err)) });
  };

  const syscanGuardMiddleware: RequestHandler = (req, res, next) => {
    let key: string;
    try {
      key = checkKey(o.key(req));
    } catch (error) {
      notify({ kind: 'error', error }, req, res);
      // Closed: the app's error handling decides (Express 4 and 5 both take next(err)).
      if (o.block && o.failClosed) next(error);
      else next();
      return;
    }
    if (o.block) {
      const ms = registry.peek(key)?.cooldownRemainingMs() ?? 0;
      if (ms > 0) {
        const retryAfter = seconds(ms);
        notify(
          { kind: 'suppressed', reason: 'alert cooldown active', heldBack: 0, retryAfterMs: ms },
          req,
          res,
        );
        sendProblem(res, coolingDownProblem(retryAfter), { 'Retry-After': retryAfter });
        return;
      }
    }
    // One session per response over the client's detector, which keeps its state between them.
    const sessionOf = (): AnalysisSession =>
      createSession({ detector: registry.get(key), context: o.context ? undefined : false });
    const judge: Judge = {
      maxBytes: o.maxInspectBytes,
      keepHeaders,
      inspect: (payload) => inspectBody(o, sessionOf, req, res, payload),
      publish: (verdict) => notify(verdict, req, res),
      problemFor: (verdict) => problemFor(o, verdict),
    };
    watches.set(res, new ResponseWatch(res, judge));
    installErrorPath(req, routes, errorHandler);
    next();
  };
  return Object.assign(syscanGuardMiddleware, { registry, errorHandler });
}

/** What replaces a response with this verdict in block mode; undefined lets it through. */
function problemFor(o: ResolvedGuardOptions, verdict: GuardVerdict): Withheld | undefined {
  if (!o.block) return undefined;
  switch (verdict.kind) {
    case 'alert':
      return { problem: anomalyProblem(verdict) };
    case 'suppressed': {
      const retryAfter = seconds(verdict.retryAfterMs);
      return { problem: anomalyProblem(verdict), headers: { 'Retry-After': retryAfter } };
    }
    case 'uninspected':
      return o.blockUninspected ? { problem: uninspectedProblem(verdict.reason) } : undefined;
    case 'error':
      return o.failClosed ? { problem: inspectionFailedProblem() } : undefined;
    default:
      return undefined;
  }
}

/** A compressed body cannot be read as text: it is uninspected, whatever it holds. */
function inspectBody(
  o: ResolvedGuardOptions,
  sessionOf: () => AnalysisSession,
  req: Request,
  res: Response,
  payload: unknown,
): GuardVerdict {
  if (typeof payload === 'string' || payload instanceof Uint8Array) {
    const encoding = res.getHeader('Content-Encoding');
    if (encoding !== undefined && String(encoding).toLowerCase() !== 'identity')
      return {
        kind: 'uninspected',
        reason: `encoded body (Content-Encoding: ${String(encoding).slice(0, 32)})`,
      };
  }
  return inspectPayload(o, sessionOf, req, payload);
}

/**
 * Puts the guard's error handler at the end of the route it guards (once per route), so an
 * error of the handler reaches it before the app's handlers or Express's 500 page. Uses the
 * route's own layer type; both Express 4 and 5 dispatch a method-less layer on errors.
 */
function installErrorPath(req: Request, routes: WeakSet<object>, handler: ErrorRequestHandler): void {
  const route = (req as { route?: { stack?: Array<{ constructor: unknown }> } }).route;
  const stack = route?.stack;
  if (route === undefined || !Array.isArray(stack) || stack.length === 0 || routes.has(route)) return;
  routes.add(route);
  const Layer = stack[0]!.constructor as new (
    path: string,
    options: object,
    fn: ErrorRequestHandler,
  ) => { method?: string };
  const layer = new Layer('/', {}, (err: unknown, rq: Request, rs: Response, next: NextFunction) =>
    handler(err, rq, rs, next),
  );
  layer.method = undefined;
  stack.push(layer as { constructor: unknown });
}

/** The status an error asks for (`err.status`/`statusCode`, 400–599), else 500. */
function statusOf(err: unknown): number {
  const e = err as { status?: unknown; statusCode?: unknown } | null;
  const s = e?.status ?? e?.statusCode;
  return typeof s === 'number' && Number.isInteger(s) && s >= 400 && s <= 599 ? s : 500;
}

type Notify = (verdict: GuardVerdict, req: Request, res: Response) => void;

/** Sets header + locals and calls onVerdict; a throwing hook never breaks the response. */
function notifier(o: ResolvedGuardOptions): Notify {
  let lastWarning = Number.NEGATIVE_INFINITY;
  let unwarned = 0;
  const warn = (what: string, error: unknown): void => {
    // At most one warning a minute: a flood of bad payloads must not flood stderr.
    const t = Date.now();
    if (t - lastWarning < 60_000) {
      unwarned++;
      return;
    }
    const more = unwarned > 0 ? ` (${unwarned} more since the last warning)` : '';
    lastWarning = t;
    unwarned = 0;
    const msg = error instanceof Error ? error.message : String(error);
    process.emitWarning(`syscanGuard: ${what}: ${msg}${more}`, {
      type: 'SyscanWarning',
      code: 'SYSCAN_GUARD',
    });
  };
  return (verdict, req, res) => {
    res.locals.syscan = verdict;
    if (!res.headersSent) res.setHeader(VERDICT_HEADER, verdict.kind);
    if (o.onVerdict === undefined) {
      if (verdict.kind === 'error') warn('inspection failed', verdict.error);
      return;
    }
    try {
      const r = o.onVerdict(verdict, req, res) as { then?: unknown } | undefined;
      if (r !== null && typeof r === 'object' && typeof r.then === 'function') {
        (r as Promise<unknown>).then(undefined, (e: unknown) => warn('onVerdict rejected', e));
      }
    } catch (e) {
      warn('onVerdict threw', e);
    }
  };
}

function checkKey(key: unknown): string {
  if (typeof key === 'string' && key.length > 0 && key.length <= MAX_KEY_LENGTH) return key;
  const got = typeof key === 'string' ? `a string of ${key.length} characters` : typeof key;
  throw new SyscanError(
    'ERR_SYSCAN_USAGE',
    `syscanGuard: key(req) must return a non-empty string of at most ${MAX_KEY_LENGTH} characters, got ${got}`,
  );
}
