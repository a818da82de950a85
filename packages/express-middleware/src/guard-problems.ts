/** The bodies of the guard's own problem responses (403, 429, 502, 500). */
import type { AnomalyVerdict } from '@syscan/core';
import { type ProblemDetails, problemType, seconds } from './problem.js';
import { type PublicAlert, publicAlert } from './redact.js';

/** Problem type URIs of the guard's responses. */
export const PROBLEM_TYPES = Object.freeze({
  anomalousOutput: problemType('anomalous-output'),
  coolingDown: problemType('cooling-down'),
  inspectionFailed: problemType('inspection-failed'),
  uninspectedOutput: problemType('uninspected-output'),
  handlerFailed: problemType('handler-failed'),
  storeUnavailable: problemType('store-unavailable'),
});

/** At most this many alerts are listed in a 403 (`alertsOmitted` counts the rest). */
export const MAX_PUBLIC_ALERTS = 50;

/** 403 for an `alert` or `suppressed` verdict. Nothing of the withheld output is in it. */
export function anomalyProblem(verdict: Exclude<AnomalyVerdict, { kind: 'clean' }>): ProblemDetails {
  const base = {
    type: PROBLEM_TYPES.anomalousOutput,
    title: 'Output withheld: anomalous syscall activity',
    status: 403,
  };
  if (verdict.kind === 'suppressed') {
    return {
      ...base,
      detail: `This client keeps tripping syscall alerts (${verdict.reason}); the output is withheld.`,
      verdict: 'suppressed',
      alerts: [],
      heldBack: verdict.heldBack,
      retryAfter: seconds(verdict.retryAfterMs),
    };
  }
  const alerts: PublicAlert[] = verdict.alerts.slice(0, MAX_PUBLIC_ALERTS).map(publicAlert);
  const omitted = verdict.alerts.length - alerts.length;
  const n = verdict.alerts.length;
  return {
    ...base,
    detail: `The command's syscall telemetry does not match the baseline (${n} alert${n === 1 ? '' : 's'}); the output is withheld.`,
    verdict: 'alert',
    alerts,
    ...(omitted > 0 ? { alertsOmitted: omitted } : {}),
  };
}

/** 429 for a client whose detector is cooling down. */
export function coolingDownProblem(retryAfter: number): ProblemDetails {
  return {
    type: PROBLEM_TYPES.coolingDown,
    title: 'Too many syscall alerts: client cooling down',
    status: 429,
    detail: `This client tripped too many syscall alerts; retry in ${retryAfter} s.`,
    retryAfter,
  };
}

/** 500 when the guard could not inspect a response (or the handler failed after it began) in block mode. */
export function inspectionFailedProblem(): ProblemDetails {
  // The cause stays server-side (res.locals.syscan, onVerdict): its message may quote the payload.
  return {
    type: PROBLEM_TYPES.inspectionFailed,
    title: 'Response inspection failed',
    status: 500,
    detail: 'The response could not be inspected for syscall anomalies, so its output is withheld.',
  };
}

/**
 * 502 for a response the guard could not read (a stream past `maxInspectBytes`, a body of
 * no known shape) in block mode with `onUninspected: 'block'`: the upstream tool's answer
 * is unusable as far as this gateway can tell, which is what 502 says.
 */
export function uninspectedProblem(reason: string): ProblemDetails {
  return {
    type: PROBLEM_TYPES.uninspectedOutput,
    title: 'Output withheld: it could not be inspected',
    status: 502,
    detail: `The response could not be read for syscall telemetry (${reason}), so its output is withheld.`,
    verdict: 'uninspected',
  };
}

/**
 * The handler failed (threw, rejected, called `next(err)`) after the guard began watching its
 * response, in block mode with `failMode: 'closed'`. Only the status survives: the error's
 * message, and any error page quoting it, may carry the output.
 */
export function handlerFailedProblem(status: number): ProblemDetails {
  return {
    type: PROBLEM_TYPES.handlerFailed,
    title: 'The tool endpoint failed',
    status,
    detail: 'The handler failed before answering; its error is not shown, since it may quote the output.',
  };
}

/** 503 when the store of alert budgets cannot be read before the handler, with `onStoreError: 'block'`. */
export function storeUnavailableProblem(): ProblemDetails {
  return {
    type: PROBLEM_TYPES.storeUnavailable,
    title: 'Guard state unavailable',
    status: 503,
    detail: "The guard could not read this client's alert budget, so the request is refused.",
  };
}
