import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built bin, run as a child process exactly as a user runs it. */
export const binPath = fileURLToPath(new URL('../../dist/bin.mjs', import.meta.url));
export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to stdin (then closed); a `{ file }` is streamed from disk. */
  input?: string | Uint8Array | { file: string };
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** Runs `syscan ARGS…` with a clean colour environment (no FORCE_COLOR leaking in from CI). */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      FORCE_COLOR: undefined,
      NO_COLOR: undefined,
      ...options.env,
    };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const child = spawn(process.execPath, [binPath, ...args], { cwd: options.cwd ?? repoRoot, env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    const input = options.input;
    // A child that exits before reading all of stdin (an error case) closes the pipe: fine.
    child.stdin.on('error', () => {});
    if (input === undefined) child.stdin.end();
    else if (typeof input === 'object' && 'file' in input) createReadStream(input.file).pipe(child.stdin);
    else child.stdin.end(input);
  });
}

/** NDJSON text → objects. */
export function ndjson(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Asserts the shape of every error: one `syscan: …` line, no stack. */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.length > 0);
}
