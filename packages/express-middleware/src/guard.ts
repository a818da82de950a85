import {
  type Alert,
  type AnalysisSession,
  DetectorRegistry,
  type DetectorStore,
  rateNotHeldText,
  type SequenceModel,
  SyscanError,
  sequenceCalibration,
} from '@syscan/core';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import {
  anomalyProblem,
  coolingDownProblem,
  handlerFailedProblem,
  inspectionFailedProblem,
  uninspectedProblem,
} from './guard-problems.js';
import { adopted, inspectPayload, responseSession } from './inspect.js';
import { type Judge, ResponseWatch, type Withheld } from './intercept.js';
import { type ResolvedGuardOptions, resolveGuardOptions } from './options.js';
import { seconds, sendProblem } from './problem.js';
import { inspectShared, sharedDetectorFor, storeDownAnswer, storeDownProblem } from './shared-state.js';
import type { GuardVerdict, SyscanGuardOptions } from './types.js';

/**
 * The middleware, with the per-client detectors it keeps (their windows and counts), the
 * store of budgets and cooldowns (`store.reset(key)` forgives a client), and its error path
 * (`app.use(guard.errorHandler)` when the guard is mounted with `app.use` rather than on a
 * route, where it installs itself).
 */
export type SyscanGuard = RequestHandler & {
  readonly registry: DetectorRegistry;
  /** The shared store of the clients' windows, budgets and cooldowns, when one was given (`store.reset(key)` forgives a client). */
  readonly store: DetectorStore | undefined;
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
  // Without a store, each client's detector lives in this process; with a core DetectorStore
  // (e.g. RedisStore), its windows, budget and cooldown live in the store (shared-state.ts).
  const registry = new DetectorRegistry({
    config: o.detector,
    maxKeys: o.maxKeys,
    idleMs: o.idleMs,
    now: o.now,
  });
  const shared = sharedDetectorFor(o);
  const cooldownOf = (key: string): number | Promise<number> => {
    if (shared === undefined) return registry.peek(key)?.cooldownRemainingMs() ?? 0;
    try {
      return shared.cooldownMs(key);
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const notify = notifier(o);
  warnOfWeakSequenceModel(o.detector);
  const keepHeaders = new Set([...o.keepHeaders, VERDICT_HEADER.toLowerCase()]);
  /** Responses this guard is watching (for its error path). */
  const watches = new WeakMap<Response, ResponseWatch>();
  /** Routes it has installed its error path on. */
  const routes = new WeakSet<object>();

  const errorHandler = guardErrorHandler(o, watches, notify);

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
    if (!o.block) return watchAndGo(key, req, res, next);
    const cooldown = cooldownOf(key);
    // The usual case, known at once: no closures made for the answers not given.
    if (cooldown === 0) return watchAndGo(key, req, res, next);
    checkCooldown(o, cooldown, req, res, notify, () => watchAndGo(key, req, res, next), next);
  };

  /** Watches the response of `key`'s request, then runs the handler. */
  function watchAndGo(key: string, req: Request, res: Response, next: NextFunction): void {
    // One session per response over the client's detector, which keeps its state between them.
    const sessionOf = (): AnalysisSession => responseSession(o, registry.get(key));
    const judge: Judge = {
      maxBytes: o.maxInspectBytes,
      keepHeaders,
      inspect: (payload) =>
        shared !== undefined
          ? inspectShared(shared, key, o, (of) => inspectBody(o, of, req, res, payload), notify.warn)
          : inspectLocal(inspectBody(o, sessionOf, req, res, payload), sessionOf),
      lost: (error) => notify.warn('the response failed after its verdict', error),
      publish: (verdict) => notify(verdict, req, res),
      problemFor: (verdict) => storeDownProblem(verdict) ?? problemFor(o, verdict),
    };
    watches.set(res, new ResponseWatch(res, judge));
    installErrorPath(req, routes, errorHandler);
    next();
  }
  return Object.assign(syscanGuardMiddleware, { registry, store: o.store, errorHandler });
}

/** The guard's error path: a handler failing before it answered gets the status only. */
function guardErrorHandler(
  o: ResolvedGuardOptions,
  watches: WeakMap<Response, ResponseWatch>,
  notify: Notify,
): ErrorRequestHandler {
  return function syscanGuardErrors(err, req, res, next) {
    const watch = watches.get(res);
    if (watch === undefined) return next(err);
    // Already answered with a problem, or an answer is being judged: nothing of the error goes out.
    if (watch.withheld || watch.judging) return;
    if (!watch.pending || !o.block || !o.failClosed) return next(err);
    // The handler failed before answering: its error (and Express's page for it) may quote
    // the output, so the client gets only the status.
    notify({ kind: 'error', error: err }, req, res);
    watch.withhold({ problem: handlerFailedProblem(statusOf(err)) });
  };
}

/**
 * Block mode, before the handler: a client cooling down (in the store) gets 429 +
 * `Retry-After`; a store that fails gets `onStoreError`'s answer. Otherwise `go`.
 */
function checkCooldown(
  o: ResolvedGuardOptions,
  cooldown: number | Promise<number>,
  req: Request,
  res: Response,
  notify: Notify,
  go: () => void,
  fail: NextFunction,
): void {
  const refuse = (ms: number): void => {
    const retryAfter = seconds(ms);
    notify({ kind: 'suppressed', reason: 'alert cooldown active', heldBack: 0, retryAfterMs: ms }, req, res);
    sendProblem(res, coolingDownProblem(retryAfter), { 'Retry-After': retryAfter });
  };
  const storeDown = (error: unknown): void => {
    if (!o.blockOnStoreError) {
      go();
      return;
    }
    notify({ kind: 'error', error }, req, res);
    const answer = storeDownAnswer();
    sendProblem(res, answer.problem, answer.headers);
  };
  if (typeof cooldown === 'number') {
    if (cooldown > 0) refuse(cooldown);
    else go();
    return;
  }
  cooldown.then((left) => (left > 0 ? refuse(left) : go()), storeDown).catch(fail);
}

/**
 * A verdict judged by the client's own detector. A run's adopted alert still spends one
 * verdict of the client's budget (so its runs cool it down), without changing the verdict.
 */
function inspectLocal(verdict: GuardVerdict, sessionOf: () => AnalysisSession): GuardVerdict {
  if (verdict.kind === 'alert' && adopted.has(verdict)) {
    const budgetAlert: Alert = verdict.alerts[0] ?? {
      type: 'anomaly_record',
      severity: 'critical',
      message: 'the run alerted (no alert listed)',
      count: 1,
    };
    sessionOf().raise([budgetAlert]);
  }
  return verdict;
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

/**
 * One process warning when the detector's sequence model has programs learned from too few
 * runs to hold its false-alarm rate (core's `sequenceCalibration`): about 1 normal response
 * in n + 1 of theirs will be flagged, which in block mode refuses it.
 */
function warnOfWeakSequenceModel(detector: ResolvedGuardOptions['detector']): void {
  if (detector.sequenceModel === undefined) return;
  const weak = rateNotHeldText(sequenceCalibration(detector.sequenceModel as unknown as SequenceModel));
  if (weak === undefined) return;
  process.emitWarning(
    `syscanGuard: the sequence model has programs learned from ${weak}; learn more runs of them`,
    {
      type: 'SyscanWarning',
      code: 'SYSCAN_SEQUENCE_RATE',
    },
  );
}

type Notify = ((verdict: GuardVerdict, req: Request, res: Response) => void) & {
  /** A process warning, at most one a minute. */
  warn(what: string, error: unknown): void;
};

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
  const notify = (verdict: GuardVerdict, req: Request, res: Response): void => {
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
  return Object.assign(notify, { warn });
}

function checkKey(key: unknown): string {
  if (typeof key === 'string' && key.length > 0 && key.length <= MAX_KEY_LENGTH) return key;
  const got = typeof key === 'string' ? `a string of ${key.length} characters` : typeof key;
  throw new SyscanError(
    'ERR_SYSCAN_USAGE',
    `syscanGuard: key(req) must return a non-empty string of at most ${MAX_KEY_LENGTH} characters, got ${got}`,
  );
}
