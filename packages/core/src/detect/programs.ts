/**
 * Per-program baselines (`programs` config key): the syscalls and allowed denials of each
 * program a baseline was learned from, keyed by exe path (comm when the telemetry gave no
 * exe). An event of a listed program is judged against its program's entry only, so `ls`
 * calling `connect` alerts even when `curl` of the same baseline connects. An event of a
 * program not listed (a child never seen in learning, a trace without execve) is judged
 * against the top-level `baselineSyscalls` and `allowedDenials`, as without this key.
 */
import type { ProcessInfo } from '../context/types.js';
import { globToRegExp } from '../rules/matchers.js';
import type { SyscallEvent } from '../types.js';
import type { Alert } from './alert.js';
import type { AllowedDenial, KeySpec } from './config-keys.js';
import { describeEvent, newAlert } from './verdict.js';

/** What one program of a baseline does. */
export interface ProgramBaseline {
  /** Syscalls the program makes. */
  readonly baselineSyscalls: readonly string[];
  /** Denials the program's normal runs make. */
  readonly allowedDenials?: readonly AllowedDenial[] | undefined;
}

export type ProgramBaselines = Readonly<Record<string, ProgramBaseline>>;

/** Most programs a config lists. */
export const MAX_CONFIG_PROGRAMS = 4096;
/** Longest program name (an exe path: PATH_MAX). */
const MAX_PROGRAM_NAME = 4096;

/**
 * The `programs` key of the key table, reading each entry with the table's own readers of
 * `baselineSyscalls` and `allowedDenials` and its `describe` (passed in, so the two keys and
 * their per-program forms cannot disagree, and this module needs nothing of the table's at load). Merge `object`: a later layer's entry of a program replaces an
 * earlier layer's entry of it, as a later `baselineSyscalls` replaces an earlier one.
 */
export function programsKey(
  syscalls: KeySpec<readonly string[]>,
  denials: KeySpec<readonly AllowedDenial[]>,
  describe: (value: unknown) => string,
): KeySpec<ProgramBaselines> {
  // A program's list has no default: it is what the program was seen making.
  const { default: _seedDefault, ...callsSchema } = syscalls.schema ?? {};
  return {
    default: Object.freeze({}),
    merge: 'object',
    schema: {
      type: 'object',
      maxProperties: MAX_CONFIG_PROGRAMS,
      description:
        "Per program (exe path, else comm): the syscalls it makes and the denials its normal runs make. An event of a listed program is judged against its entry instead of the top-level baselineSyscalls and allowedDenials; other programs' events against the top-level keys.",
      propertyNames: { minLength: 1, maxLength: MAX_PROGRAM_NAME },
      additionalProperties: {
        type: 'object',
        required: ['baselineSyscalls'],
        additionalProperties: false,
        properties: {
          baselineSyscalls: { ...callsSchema, description: 'Syscalls the program makes.' },
          allowedDenials: { ...denials.schema, description: "Denials the program's normal runs make." },
        },
      },
    },
    read(v, label, problems) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        problems.push(
          `${label} must be an object of program → {baselineSyscalls, allowedDenials?}, got ${describe(v)}`,
        );
        return undefined;
      }
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length > MAX_CONFIG_PROGRAMS) {
        problems.push(
          `${label} lists ${entries.length} programs, at most ${MAX_CONFIG_PROGRAMS} are accepted`,
        );
        return undefined;
      }
      const out: Record<string, ProgramBaseline> = {};
      const before = problems.length;
      for (const [program, entry] of entries) {
        const at = `${label}[${JSON.stringify(program.length > 60 ? `${program.slice(0, 60)}…` : program)}]`;
        if (program.length === 0 || program.length > MAX_PROGRAM_NAME) {
          problems.push(`${at} must be named by an exe path or comm of 1 to ${MAX_PROGRAM_NAME} characters`);
          continue;
        }
        if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
          problems.push(
            `${at} must be an object {baselineSyscalls, allowedDenials?}, got ${describe(entry)}`,
          );
          continue;
        }
        const e = entry as Record<string, unknown>;
        const unknown = Object.keys(e).find((k) => k !== 'baselineSyscalls' && k !== 'allowedDenials');
        if (unknown !== undefined) {
          problems.push(`${at} has an unknown key "${unknown}" (baselineSyscalls, allowedDenials)`);
          continue;
        }
        if (e.baselineSyscalls === undefined) {
          problems.push(`${at}.baselineSyscalls is missing`);
          continue;
        }
        const calls = syscalls.read(e.baselineSyscalls, `${at}.baselineSyscalls`, problems);
        const allowed =
          e.allowedDenials === undefined
            ? undefined
            : denials.read(e.allowedDenials, `${at}.allowedDenials`, problems);
        if (calls === undefined || (e.allowedDenials !== undefined && allowed === undefined)) continue;
        out[program] = Object.freeze({
          baselineSyscalls: calls,
          ...(allowed !== undefined && allowed.length > 0 ? { allowedDenials: allowed } : {}),
        });
      }
      return problems.length === before ? Object.freeze(out) : undefined;
    },
  };
}

/** allowedDenials by syscall: errno (any when undefined) and path glob (any when undefined). */
export type AllowedMatchers = ReadonlyMap<
  string,
  ReadonlyArray<{ errno: string | undefined; path: RegExp | undefined }>
>;

export function compileAllowed(list: readonly AllowedDenial[]): AllowedMatchers {
  const allowed = new Map<string, Array<{ errno: string | undefined; path: RegExp | undefined }>>();
  for (const a of list) {
    let matchers = allowed.get(a.syscall);
    if (matchers === undefined) {
      matchers = [];
      allowed.set(a.syscall, matchers);
    }
    matchers.push({ errno: a.errno, path: a.path === undefined ? undefined : globToRegExp(a.path, false) });
  }
  return allowed;
}

/** True when `e` (a denied call) matches one of `allowed`. */
export function matchesAllowed(allowed: AllowedMatchers, e: SyscallEvent): boolean {
  const list = allowed.get(e.syscall);
  if (list === undefined) return false;
  const path = e.paths?.[0];
  for (const a of list) {
    if (a.errno !== undefined && a.errno !== e.errno) continue;
    if (a.path !== undefined && (path === undefined || !a.path.test(path))) continue;
    return true;
  }
  return false;
}

/** One program's entry, ready to judge events with. */
export interface CompiledProgram {
  readonly name: string;
  readonly baseline: ReadonlySet<string>;
  readonly allowed: AllowedMatchers;
}

/** The `programs` of a resolved config (the key table fills it in; `{}` when none). */
export function configPrograms(config: object): ProgramBaselines {
  return (config as { programs?: ProgramBaselines }).programs ?? {};
}

export function compilePrograms(programs: ProgramBaselines): ReadonlyMap<string, CompiledProgram> {
  const out = new Map<string, CompiledProgram>();
  for (const [name, p] of Object.entries(programs)) {
    out.set(name, {
      name,
      baseline: new Set(p.baselineSyscalls),
      allowed: compileAllowed(p.allowedDenials ?? []),
    });
  }
  return out;
}

/** The listed program that made a call: by exe, else by comm (as the sequence model looks programs up). */
export function programOfEvent(
  programs: ReadonlyMap<string, CompiledProgram>,
  process: ProcessInfo | undefined,
): CompiledProgram | undefined {
  if (process === undefined) return undefined;
  const exe = process.exe;
  const byExe = exe === undefined ? undefined : programs.get(exe);
  if (byExe !== undefined) return byExe;
  const comm = process.comm;
  return comm === undefined ? undefined : programs.get(comm);
}

/**
 * {@link programOfEvent} remembering its last answer: events come in runs of one process's
 * calls, all carrying the same immutable ProcessInfo, so most look-ups are one comparison.
 */
export class ProgramLookup {
  readonly #programs: ReadonlyMap<string, CompiledProgram>;
  #lastProcess: ProcessInfo | undefined;
  #lastProgram: CompiledProgram | undefined;

  constructor(programs: ReadonlyMap<string, CompiledProgram>) {
    this.#programs = programs;
  }

  of(process: ProcessInfo | undefined): CompiledProgram | undefined {
    if (process === undefined || this.#programs.size === 0) return undefined;
    if (process !== this.#lastProcess) {
      this.#lastProcess = process;
      this.#lastProgram = programOfEvent(this.#programs, process);
    }
    return this.#lastProgram;
  }
}

/**
 * The unknown_syscall alerts of one verdict for listed programs, merged per (program,
 * syscall) unless strict: `connect` by ls and `connect` by cat are two findings.
 */
export class ProgramAlerts {
  readonly #open = new Map<string, Alert>();

  /** A new verdict starts: earlier verdicts' alerts are no longer merged into. */
  begin(): void {
    if (this.#open.size > 0) this.#open.clear();
  }

  /** The alert to add to the verdict, or undefined when the call was merged into one already added. */
  unknown(
    program: CompiledProgram,
    e: SyscallEvent,
    severity: Alert['severity'],
    strict: boolean,
    countTarget: (alert: Alert, e: SyscallEvent) => void,
  ): Alert | undefined {
    const key = `${program.name}\0${e.syscall}`;
    if (!strict) {
      const existing = this.#open.get(key);
      if (existing !== undefined) {
        existing.count++;
        countTarget(existing, e);
        return undefined;
      }
    }
    // The seed's wording, and whose baseline it is not in: the program's own.
    const alert = newAlert(
      'unknown_syscall',
      severity,
      `unknown syscall '${e.syscall}' not in baseline of ${program.name}`,
    );
    alert.syscall = e.syscall;
    alert.details = { baseline: 'program', program: program.name };
    describeEvent(alert, e);
    if (!strict) this.#open.set(key, alert);
    return alert;
  }
}
