import type { Severity } from '@syscan/core';

/** A validated `POST /v1/exec` body. */
export interface ExecBody {
  argv: string[];
  cwd?: string | undefined;
  env?: Record<string, string> | undefined;
  stdin?: string | undefined;
  timeoutMs?: number | undefined;
  enforce?: boolean | undefined;
}

export interface ValidationLimits {
  maxTimeoutMs: number;
}

/** The first problem found, naming its field (JSON-pointer style, e.g. `argv/2`). */
export interface FieldProblem {
  field: string;
  detail: string;
}

const FIELDS = new Set(['argv', 'cwd', 'env', 'stdin', 'timeoutMs', 'enforce']);
const MAX_ARGS = 4096;
const MAX_ARG_CHARS = 128 * 1024;
const MAX_ENV = 256;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;

/** Strict: unknown fields, wrong types, NUL bytes and out-of-range values are refused. */
export function validateExecBody(body: unknown, limits: ValidationLimits): ExecBody | FieldProblem {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { field: '', detail: 'the body must be a JSON object' };
  }
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!FIELDS.has(k))
      return { field: k, detail: `unknown field '${k}' (allowed: ${[...FIELDS].join(', ')})` };
  }
  const { argv, cwd, env, stdin, timeoutMs, enforce } = b;
  if (!Array.isArray(argv))
    return { field: 'argv', detail: 'argv must be an array of strings (no shell: one item per argument)' };
  if (argv.length === 0) return { field: 'argv', detail: 'argv must name a command' };
  if (argv.length > MAX_ARGS) return { field: 'argv', detail: `argv has more than ${MAX_ARGS} items` };
  let chars = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (typeof a !== 'string') return { field: `argv/${i}`, detail: `argv[${i}] must be a string` };
    if (a.includes('\0')) return { field: `argv/${i}`, detail: `argv[${i}] contains a NUL byte` };
    chars += a.length;
  }
  if (argv[0] === '') return { field: 'argv/0', detail: 'argv[0] (the command) must not be empty' };
  if (chars > MAX_ARG_CHARS)
    return { field: 'argv', detail: `argv is longer than ${MAX_ARG_CHARS} characters` };
  if (cwd !== undefined) {
    if (typeof cwd !== 'string' || !cwd.startsWith('/') || cwd.includes('\0')) {
      return { field: 'cwd', detail: 'cwd must be an absolute path' };
    }
  }
  let cleanEnv: Record<string, string> | undefined;
  if (env !== undefined) {
    if (typeof env !== 'object' || env === null || Array.isArray(env)) {
      return { field: 'env', detail: 'env must be an object of string values' };
    }
    const entries = Object.entries(env as Record<string, unknown>);
    if (entries.length > MAX_ENV) return { field: 'env', detail: `env has more than ${MAX_ENV} variables` };
    cleanEnv = {};
    for (const [k, v] of entries) {
      if (!ENV_NAME.test(k))
        return { field: `env/${k}`, detail: `env name '${k.slice(0, 64)}' is not a valid variable name` };
      if (typeof v !== 'string' || v.includes('\0'))
        return { field: `env/${k}`, detail: `env.${k} must be a string without NUL bytes` };
      cleanEnv[k] = v;
    }
  }
  if (stdin !== undefined && typeof stdin !== 'string')
    return { field: 'stdin', detail: 'stdin must be a string' };
  if (timeoutMs !== undefined) {
    if (
      typeof timeoutMs !== 'number' ||
      !Number.isInteger(timeoutMs) ||
      timeoutMs < 1 ||
      timeoutMs > limits.maxTimeoutMs
    ) {
      return { field: 'timeoutMs', detail: `timeoutMs must be an integer from 1 to ${limits.maxTimeoutMs}` };
    }
  }
  if (enforce !== undefined && typeof enforce !== 'boolean')
    return { field: 'enforce', detail: 'enforce must be a boolean' };
  return {
    argv: argv as string[],
    cwd: cwd as string | undefined,
    env: cleanEnv,
    stdin: stdin as string | undefined,
    timeoutMs: timeoutMs as number | undefined,
    enforce: enforce as boolean | undefined,
  };
}

export function isProblem(v: ExecBody | FieldProblem): v is FieldProblem {
  return 'detail' in v;
}

export type { Severity };
