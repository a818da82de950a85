/**
 * The guard over a core `DetectorStore` (`syscanGuard({ store: new RedisStore({ url }) })`):
 * each response is judged per payload by a session over core's `PayloadDetector`, then its
 * client's windows, budget and cooldown are updated in the store in one call, and core
 * makes the verdict (rate alerts, `suppressed`). The guard decides nothing itself.
 *
 * When the store fails (Redis down, too slow), in block mode with `onStoreError: 'block'`
 * the response is withheld with 503 + `Retry-After` whatever it held; with `'pass'` it gets
 * its per-payload verdict (alerts still block; rates and budget are not applied); in report
 * mode it is labelled `error` (or `alert`, when the payload alone alerted). Always a warning.
 */
import { type AnalysisSession, isDetectorStore, type PayloadDetector, SharedDetector } from '@syscan/core';
import { storeUnavailableProblem } from './guard-problems.js';
import { adopted, responseSession } from './inspect.js';
import type { Withheld } from './intercept.js';
import type { ResolvedGuardOptions } from './options.js';
import type { GuardVerdict } from './types.js';

/** `Retry-After` (s) of a response withheld because the store failed: a reconnect is usually quick. */
export const STORE_DOWN_RETRY_AFTER_SECS = 5;

/** Verdicts made because the store failed (block mode answers them 503). */
const storeDown = new WeakSet<object>();

/** The shared judging of the guard when its store is a core `DetectorStore`, else undefined. */
export function sharedDetectorFor(o: ResolvedGuardOptions): SharedDetector | undefined {
  if (!isDetectorStore(o.store)) return undefined;
  return new SharedDetector({
    config: o.detector,
    store: o.store,
    maxKeys: o.maxKeys,
    idleMs: o.idleMs,
    now: o.now,
  });
}

/**
 * The verdict of one response of `key`. `body` is the guard's own reading of the payload
 * (extractor, encodings, caps), given the session to judge it with.
 */
export async function inspectShared(
  shared: SharedDetector,
  key: string,
  o: ResolvedGuardOptions,
  body: (sessionOf: () => AnalysisSession) => GuardVerdict,
  warn: (what: string, error: unknown) => void,
): Promise<GuardVerdict> {
  const detector: PayloadDetector = shared.detector(key);
  const local = body(() => responseSession(o, detector));
  if (local.kind === 'uninspected' || local.kind === 'error') return local;
  // A run's own verdict stays as it is; an alerting one still counts against the budget.
  const isAdopted = adopted.has(local);
  if (isAdopted) {
    if (local.kind !== 'alert') return local;
    detector.observe([], local.alerts);
  }
  try {
    const verdict = await detector.settle();
    return isAdopted ? local : verdict;
  } catch (error) {
    warn('the store failed', error);
    if (isAdopted || (o.block && !o.blockOnStoreError)) return local;
    if (!o.block && local.kind === 'alert') return local;
    const verdict: GuardVerdict = { kind: 'error', error };
    if (o.block) storeDown.add(verdict);
    return verdict;
  }
}

/** The 503 that replaces a response whose store failed (block mode, `onStoreError: 'block'`). */
export function storeDownProblem(verdict: GuardVerdict): Withheld | undefined {
  return storeDown.has(verdict) ? storeDownAnswer() : undefined;
}

/** 503 + `Retry-After`: the answer to a request whose store failed, before or after the handler. */
export function storeDownAnswer(): Withheld {
  return {
    problem: { ...storeUnavailableProblem(), retryAfter: STORE_DOWN_RETRY_AFTER_SECS },
    headers: { 'Retry-After': STORE_DOWN_RETRY_AFTER_SECS },
  };
}
