import type { AnomalyVerdict } from '@syscan/core';
import type { Response } from 'express';
import { type PublicAlert, publicAlert } from './redact.js';

/** RFC 9457 problem type URIs of the guard's responses: URNs, since syscan owns no web domain to dereference. */
export const PROBLEM_TYPES = {
  anomalousOutput: 'urn:syscan:problem:anomalous-output',
  coolingDown: 'urn:syscan:problem:cooling-down',
  inspectionFailed: 'urn:syscan:problem:inspection-failed',
} as const;

/** At most this many alerts are listed in a 403 (`alertsOmitted` counts the rest). */
export const MAX_PUBLIC_ALERTS = 50;

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

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

/** 500 when the guard could not inspect a response and `failMode` is `closed`. */
export function inspectionFailedProblem(): ProblemDetails {
  // The cause stays server-side (res.locals.syscan, onVerdict): its message may quote the payload.
  return {
    type: PROBLEM_TYPES.inspectionFailed,
    title: 'Response inspection failed',
    status: 500,
    detail: 'The response could not be inspected for syscall anomalies, so its output is withheld.',
  };
}

/** Whole seconds to wait, rounded up, never 0 while a wait remains. */
export function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Headers that describe the replaced body; left in place they would misdescribe the problem. */
const CONTENT_HEADERS = [
  'Content-Type',
  'Content-Length',
  'Content-Encoding',
  'Content-Disposition',
  'Content-Language',
  'Content-Range',
  'Content-Location',
  'ETag',
  'Last-Modified',
];

/** Replaces whatever the handler prepared with `problem`, sent through the unwrapped `send`. */
export function sendProblem(
  res: Response,
  send: (body: string) => unknown,
  problem: ProblemDetails,
  headers?: Record<string, string>,
): void {
  for (const h of CONTENT_HEADERS) res.removeHeader(h);
  res.status(problem.status);
  res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  if (headers) for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  send.call(res, JSON.stringify(problem));
}
