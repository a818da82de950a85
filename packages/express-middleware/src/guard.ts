import { DetectorRegistry, SyscanError } from '@syscan/core';
import type { Request, RequestHandler, Response } from 'express';
import { anomalyProblem, coolingDownProblem, inspectionFailedProblem } from './guard-problems.js';
import { type ResolvedGuardOptions, resolveGuardOptions } from './options.js';
import { seconds, sendProblem } from './problem.js';
import type { GuardVerdict, SyscanGuardOptions } from './types.js';

/** The middleware, with the per-client detectors it keeps (e.g. `registry.delete(key)` to forgive a client). */
export type SyscanGuard = RequestHandler & { readonly registry: DetectorRegistry };

/** Name of the response header that carries the verdict kind. */
export const VERDICT_HEADER = 'Syscan-Verdict';
const MAX_KEY_LENGTH = 1024;

/**
 * Guards a tool-execution route. Before the handler, a client whose detector is cooling
 * down gets 429 + `Retry-After`. After it, the telemetry in the payload of `res.json` /
 * `res.send` is analysed with that client's detector; the verdict goes to the
 * `Syscan-Verdict` header, `res.locals.syscan` and `onVerdict`, and in block mode an
 * anomalous response becomes a 403 problem that withholds the output.
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
    watch(o, registry, notify, key, req, res);
    next();
  };
  return Object.assign(syscanGuardMiddleware, { registry });
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

// Each response is judged once: by whichever of json/jsonp/send the handler calls first
// (json and jsonp call send, and send(object) calls json), or marked uninspected at its
// first write()/end(body) when it is streamed.
const PENDING = 0;
const DONE = 1;

type Method = (this: Response, ...args: unknown[]) => Response;

function watch(
  o: ResolvedGuardOptions,
  registry: DetectorRegistry,
  notify: Notify,
  key: string,
  req: Request,
  res: Response,
): void {
  let state = PENDING;
  const r = res as unknown as Record<'json' | 'jsonp' | 'send' | 'write' | 'end', Method>;
  const send = r.send;

  const judge = (original: Method, args: unknown[]): Response => {
    if (state !== PENDING || res.headersSent) return original.apply(res, args);
    state = DONE;
    const verdict = inspect(o, registry, key, req, payloadOf(args));
    notify(verdict, req, res);
    if (o.block) {
      if (verdict.kind === 'alert' || verdict.kind === 'suppressed') {
        sendProblem(res, anomalyProblem(verdict), undefined, end);
        return res;
      }
      if (verdict.kind === 'error' && o.failClosed) {
        sendProblem(res, inspectionFailedProblem(), undefined, end);
        return res;
      }
    }
    return original.apply(res, args);
  };
  const streamed = (original: Method, args: unknown[], hasBody: boolean): unknown => {
    if (state === PENDING && hasBody) {
      state = DONE;
      notify({ kind: 'uninspected', reason: 'streamed response (write/end without send or json)' }, req, res);
    }
    return original.apply(res, args);
  };

  const { json, jsonp, write, end } = r;
  r.json = function json_(...args) {
    return judge(json, args);
  };
  r.jsonp = function jsonp_(...args) {
    return judge(jsonp, args);
  };
  r.send = function send_(...args) {
    return judge(send, args);
  };
  r.write = function write_(...args) {
    return streamed(write, args, true) as Response;
  };
  r.end = function end_(...args) {
    const first = args[0];
    return streamed(end, args, first !== undefined && typeof first !== 'function') as Response;
  };
}

/** The body argument of json/jsonp/send, including Express 4's deprecated `(status, body)` forms. */
function payloadOf(args: unknown[]): unknown {
  if (args.length >= 2 && typeof args[0] === 'number') return args[1];
  return args[0];
}

/** The verdict for one payload; every failure becomes an `error` verdict, never a throw. */
function inspect(
  o: ResolvedGuardOptions,
  registry: DetectorRegistry,
  key: string,
  req: Request,
  payload: unknown,
): GuardVerdict {
  try {
    const text = telemetryText(o.extract(payload, req), o.maxInspectBytes);
    if (text === undefined) return { kind: 'clean' };
    return registry.get(key).analyze(text);
  } catch (error) {
    return { kind: 'error', error };
  }
}

/** One text for the detector: several fields are joined by newlines (each is whole lines). */
function telemetryText(extracted: unknown, max: number): string | undefined {
  if (extracted === undefined) return undefined;
  let texts: readonly unknown[];
  if (typeof extracted === 'string') texts = [extracted];
  else if (Array.isArray(extracted)) texts = extracted;
  else throw badExtract(typeof extracted);
  let size = 0;
  for (const t of texts) {
    if (typeof t !== 'string') throw badExtract(`an array holding a ${typeof t}`);
    size += t.length;
  }
  if (size > max) {
    // Truncating would let a command hide activity behind padding: over the cap is a
    // failure, and failMode decides.
    throw new SyscanError(
      'ERR_SYSCAN_INPUT',
      `syscanGuard: ${size} characters of telemetry exceed maxInspectBytes (${max})`,
    );
  }
  if (size === 0) return undefined;
  return texts.length === 1 ? (texts[0] as string) : texts.join('\n');
}

function badExtract(got: string): SyscanError {
  return new SyscanError(
    'ERR_SYSCAN_USAGE',
    `syscanGuard: extract() must return a string, an array of strings or undefined, got ${got}`,
  );
}
