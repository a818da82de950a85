import type { Response } from 'express';

/** RFC 9457 problem types of the runner's own responses (the guard has its own). */
export const RUNNER_PROBLEMS = {
  invalidRequest: 'https://syscan.dev/problems/invalid-request',
  unauthorized: 'https://syscan.dev/problems/unauthorized',
  busy: 'https://syscan.dev/problems/busy',
  shuttingDown: 'https://syscan.dev/problems/shutting-down',
  commandNotRunnable: 'https://syscan.dev/problems/command-not-runnable',
  sandboxUnavailable: 'https://syscan.dev/problems/sandbox-unavailable',
  notFound: 'https://syscan.dev/problems/not-found',
} as const;

export function sendProblem(
  res: Response,
  status: number,
  type: string,
  title: string,
  detail: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ type, title, status, detail, ...extra }));
}
