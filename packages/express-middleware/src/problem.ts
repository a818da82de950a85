/**
 * The one RFC 9457 problem+json writer of syscan's HTTP answers (the guard's 403/429/502/500
 * and the sandbox runner's own errors), with one type-URI scheme: `urn:syscan:problem:<name>`
 * (URNs, since syscan owns no web domain to dereference). Framework-thin: it needs only
 * Node's `http.ServerResponse`, so an Express `Response` or a bare `http` server both work.
 */
import type { ServerResponse } from 'node:http';
import { SyscanError } from '@syscan/core';

export interface ProblemDetails {
  /** A URI from {@link problemType}. */
  type: string;
  title: string;
  /** The HTTP status the problem is sent with. */
  status: number;
  detail: string;
  [extension: string]: unknown;
}

const PROBLEM_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const PREFIX = 'urn:syscan:problem:';

/**
 * The type URI of a syscan problem: `problemType('cooling-down')` is
 * `urn:syscan:problem:cooling-down`. Names are lower-case words joined by `-`.
 *
 * @throws SyscanError `ERR_SYSCAN_USAGE` for any other name (a typo must not mint a new type).
 */
export function problemType(name: string): string {
  if (typeof name !== 'string' || name.length > 64 || !PROBLEM_NAME.test(name)) {
    throw new SyscanError(
      'ERR_SYSCAN_USAGE',
      `problemType: name must be lower-case words joined by '-' (at most 64 characters), got ${JSON.stringify(String(name).slice(0, 64))}`,
    );
  }
  return PREFIX + name;
}

/** Headers that describe the body being replaced; left in place they would misdescribe the problem. */
export const CONTENT_HEADERS: readonly string[] = Object.freeze([
  'content-type',
  'content-length',
  'content-encoding',
  'content-disposition',
  'content-language',
  'content-range',
  'content-location',
  'transfer-encoding',
  'etag',
  'last-modified',
]);

/** The most a `Retry-After` says (one year, the detector's own cooldown cap). */
const MAX_RETRY_AFTER_SECS = 31_536_000;

/** Extra headers of a problem: strings or numbers (`Retry-After: 10`). */
export type ProblemHeaders = Readonly<Record<string, string | number>>;

/**
 * Sends `problem` as the whole response: status `problem.status`, `application/problem+json`,
 * `Cache-Control: no-store`, then `headers`. Headers describing a previous body (type,
 * length, encoding, ETag…) are dropped first; other headers the caller set stay (the guard
 * clears those itself before a 403). A `Retry-After` is sent as whole seconds, a finite
 * integer from 0 to one year, whatever number it is given.
 *
 * When the headers have already gone out, the response can no longer become a problem: it
 * is destroyed instead (the client sees a cut connection, never a half body presented as whole).
 *
 * @param end The `end` to write with, for a caller that has wrapped `res.end` (the guard). Defaults to `res.end`.
 */
export function sendProblem(
  res: ServerResponse,
  problem: ProblemDetails,
  headers?: ProblemHeaders,
  end: (body: string) => unknown = res.end,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(problem);
  for (const h of CONTENT_HEADERS) res.removeHeader(h);
  res.statusCode = problem.status;
  // A reason phrase the handler chose (writeHead(200, '…')) must not ride along: Node's default.
  res.statusMessage = undefined as unknown as string;
  res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  if (headers !== undefined) {
    for (const [name, value] of Object.entries(headers)) {
      res.setHeader(
        name,
        name.toLowerCase() === 'retry-after' ? String(retryAfterSecs(value)) : String(value),
      );
    }
  }
  res.setHeader('Content-Length', Buffer.byteLength(body));
  end.call(res, body);
}

/** A `Retry-After` value as whole seconds in [0, one year]: never `Infinity`, `NaN` or a fraction. */
export function retryAfterSecs(value: string | number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (Number.isNaN(n)) return MAX_RETRY_AFTER_SECS;
  return Math.min(MAX_RETRY_AFTER_SECS, Math.max(0, Math.ceil(n)));
}

/** Whole seconds to wait for `ms`, rounded up, at least 1 while a wait remains; finite, at most a year. */
export function seconds(ms: number): number {
  return Math.max(1, retryAfterSecs(ms / 1000));
}
