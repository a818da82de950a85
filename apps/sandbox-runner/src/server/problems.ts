/**
 * The runner's own problem answers, through the one problem+json writer of syscan's HTTP
 * answers (`@syscan/express-middleware`), so the guard's and the runner's problems share one
 * type-URI scheme on the same endpoint.
 */
import { type ProblemHeaders, problemType, sendProblem } from '@syscan/express-middleware';
import type { Response } from 'express';

/** Problem names of the runner; types are `urn:syscan:problem:<name>`. */
export type RunnerProblem =
  | 'invalid-request'
  | 'unauthorized'
  | 'busy'
  | 'shutting-down'
  | 'command-not-runnable'
  | 'sandbox-unavailable'
  | 'not-found'
  | 'internal-error';

export function sendRunnerProblem(
  res: Response,
  status: number,
  name: RunnerProblem,
  title: string,
  detail: string,
  extensions: Record<string, unknown> = {},
  headers?: ProblemHeaders,
): void {
  sendProblem(res, { type: problemType(name), title, status, detail, ...extensions }, headers);
}
