/**
 * The alert budget, kept in the guard's store instead of each detector, so that instances
 * sharing a store share it: an alerting verdict spends one unit; once the budget of the
 * window is spent, the client cools down (its alerting verdicts become `suppressed`, and in
 * block mode it is refused with 429 before the handler runs).
 */
import type { ResolvedDetectorConfig } from '@syscan/core';
import { adopted } from './inspect.js';
import type { AlertBudget, GuardStore, SpendResult } from './store.js';
import type { GuardVerdict } from './types.js';

/** The budget a detector config describes (`maxAlertsPerMinute` per `windowMs`, `alertCooldownSecs`). */
export function budgetOf(config: ResolvedDetectorConfig): AlertBudget {
  return Object.freeze({
    max: config.enabled ? config.maxAlertsPerMinute : 0,
    windowMs: config.windowMs,
    cooldownMs: config.alertCooldownSecs * 1000,
  });
}

/**
 * Spends one unit of `key`'s budget for an alerting verdict and returns what the verdict
 * becomes: itself within budget (and always, for a run's own adopted verdict), else
 * `suppressed`. A store that fails leaves the verdict as it is (an alert is blocked anyway)
 * and is reported through `onStoreFailure`.
 */
export function spendFor(
  verdict: GuardVerdict,
  store: GuardStore,
  key: string,
  now: number,
  budget: AlertBudget,
  onStoreFailure: (error: unknown) => void,
): GuardVerdict | Promise<GuardVerdict> {
  if (verdict.kind !== 'alert' || budget.max <= 0) return verdict;
  const apply = (r: SpendResult): GuardVerdict => {
    if (r.state === 'ok' || adopted.has(verdict)) return verdict;
    return {
      kind: 'suppressed',
      reason:
        r.state === 'cooling'
          ? 'alert cooldown active'
          : `alert budget exhausted (${budget.max}/${windowLabel(budget.windowMs)}), cooldown ${budget.cooldownMs / 1000}s`,
      heldBack: verdict.alerts.length,
      retryAfterMs: r.retryAfterMs,
    };
  };
  const failed = (error: unknown): GuardVerdict => {
    onStoreFailure(error);
    return verdict;
  };
  let result: SpendResult | PromiseLike<SpendResult>;
  try {
    result = store.spend(key, now, budget);
  } catch (error) {
    return failed(error);
  }
  return isThenable(result) ? Promise.resolve(result).then(apply, failed) : apply(result);
}

/** A promise of any library (a store's client may bring its own). */
export function isThenable<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** The detector's wording: `min` for a one-minute window, else seconds. */
function windowLabel(ms: number): string {
  return ms === 60_000 ? 'min' : `${ms / 1000}s`;
}
