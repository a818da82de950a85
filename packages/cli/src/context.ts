import type { Readable, Writable } from 'node:stream';
import { Output } from './io/output.js';

/** The process as the commands see it; tests and embedders can pass their own streams. */
export interface CliIO {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  /** Where SIGINT/SIGTERM arrive (follow mode stops on them). */
  signals: Pick<NodeJS.Process, 'once' | 'off'>;
}

/** Shared by every command of one run; the action records its verdict in `exitCode`. */
export interface CliContext {
  io: CliIO;
  out: Output;
  exitCode: number;
}

export function createContext(io: CliIO): CliContext {
  return { io, out: new Output(io.stdout), exitCode: 0 };
}

export function processIO(): CliIO {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signals: process,
  };
}
