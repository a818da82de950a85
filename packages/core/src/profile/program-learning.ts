/**
 * The per-program part of a learned baseline (`programs`): each program's syscalls and
 * denials, keyed as the detector looks them up (exe path, else comm), plus how much of each
 * was seen. Bounded: at most {@link MAX_LEARNED_PROGRAMS} programs, each with at most
 * {@link MAX_PROGRAM_SYSCALLS} syscalls and {@link MAX_PROGRAM_DENIALS} denials; what does
 * not fit is counted, and its events are judged by the top-level union, which has it all.
 */
import type { AllowedDenial } from '../detect/config.js';
import type { ProgramBaselines } from '../detect/programs.js';
import type { SyscallEvent } from '../types.js';

/** Most programs a learned baseline lists (the rest are judged by the top-level union). */
export const MAX_LEARNED_PROGRAMS = 256;
/** Most syscalls learned per program (a name past it alerts for that program: fail closed). */
export const MAX_PROGRAM_SYSCALLS = 1024;
/** Most distinct denials learned per program. */
export const MAX_PROGRAM_DENIALS = 256;
/** Distinct pids remembered for the process counts (per program and in all). */
const MAX_PIDS = 65_536;

/** How much of one program a baseline saw. */
export interface ProgramFacts {
  events: number;
  /** Distinct processes (pids; per input, summed over merged baselines) that ran it. */
  processes: number;
  syscalls: number;
}

/** A program's learned entry, as written under `programs`. */
export interface LearnedProgram {
  baselineSyscalls: string[];
  allowedDenials?: AllowedDenial[];
}

interface Learning {
  events: number;
  readonly pids: Set<number>;
  readonly syscalls: Set<string>;
  readonly denials: Map<string, AllowedDenial>;
}

/** Key of a denial: syscall, errno, path glob. */
export function denialKey(a: AllowedDenial): string {
  return `${a.syscall}\0${a.errno ?? ''}\0${a.path ?? ''}`;
}

export function compareDenials(a: AllowedDenial, b: AllowedDenial): number {
  const ka = `${a.syscall} ${a.errno ?? ''} ${a.path ?? ''}`;
  const kb = `${b.syscall} ${b.errno ?? ''} ${b.path ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export class ProgramLearner {
  readonly #programs = new Map<string, Learning>();
  readonly #pids = new Set<number>();
  /** Distinct programs past the cap (their events are judged by the top-level union). */
  droppedPrograms = 0;
  readonly #droppedNames = new Set<string>();
  /** Syscalls not kept because a program's list was full. */
  droppedSyscalls = 0;
  /** Events of no named process (no exe, no comm): in the top-level union only. */
  unnamedEvents = 0;

  /** Takes one syscall event into account; `denial` is its allowedDenials entry when it was denied. */
  observe(e: SyscallEvent, denial: AllowedDenial | undefined): void {
    const process = e.process;
    const pid = process?.pid ?? e.pid ?? 0;
    if (this.#pids.size < MAX_PIDS) this.#pids.add(pid);
    // As the detector looks programs up: exe, else comm. A call of no named process is in the union only.
    const name = process?.exe ?? process?.comm;
    if (name === undefined) {
      this.unnamedEvents++;
      return;
    }
    const p = this.#program(name);
    if (p === undefined) return;
    p.events++;
    if (p.pids.size < MAX_PIDS) p.pids.add(pid);
    if (!p.syscalls.has(e.syscall)) {
      if (p.syscalls.size < MAX_PROGRAM_SYSCALLS) p.syscalls.add(e.syscall);
      else this.droppedSyscalls++;
    }
    if (denial !== undefined && p.denials.size < MAX_PROGRAM_DENIALS)
      p.denials.set(denialKey(denial), denial);
  }

  /** Distinct processes seen (pids of this learner's input). */
  get processes(): number {
    return processCount(this.#pids);
  }

  /** The `programs` key: sorted by name, each with its sorted syscalls and denials. */
  toPrograms(): Record<string, LearnedProgram> {
    const out: Record<string, LearnedProgram> = {};
    for (const name of [...this.#programs.keys()].sort()) {
      const p = this.#programs.get(name)!;
      out[name] = entry(p.syscalls, p.denials.values());
    }
    return out;
  }

  /** How much of each program was seen, sorted by name. */
  facts(): Record<string, ProgramFacts> {
    const out: Record<string, ProgramFacts> = {};
    for (const name of [...this.#programs.keys()].sort()) {
      const p = this.#programs.get(name)!;
      out[name] = { events: p.events, processes: processCount(p.pids), syscalls: p.syscalls.size };
    }
    return out;
  }

  #program(name: string): Learning | undefined {
    let p = this.#programs.get(name);
    if (p !== undefined) return p;
    if (this.#programs.size >= MAX_LEARNED_PROGRAMS) {
      // Counted once per name (a few remembered to tell; past them each call counts).
      if (!this.#droppedNames.has(name)) {
        this.droppedPrograms++;
        if (this.#droppedNames.size < 1024) this.#droppedNames.add(name);
      }
      return undefined;
    }
    p = { events: 0, pids: new Set(), syscalls: new Set(), denials: new Map() };
    this.#programs.set(name, p);
    return p;
  }
}

/**
 * Distinct processes of a pid set. Pid 0 is "not shown yet" (strace without -f names a pid
 * only from the first set_tid_address/getpid return): the same process as the pid that follows.
 */
function processCount(pids: ReadonlySet<number>): number {
  return pids.has(0) && pids.size > 1 ? pids.size - 1 : pids.size;
}

function entry(syscalls: Iterable<string>, denials: Iterable<AllowedDenial>): LearnedProgram {
  const allowed = [...denials].sort(compareDenials);
  return {
    baselineSyscalls: [...syscalls].sort(),
    ...(allowed.length > 0 ? { allowedDenials: allowed } : {}),
  };
}

/** The union per program of several baselines' `programs` (capped as a learner is), with their facts summed. */
export class ProgramMerger {
  readonly #programs = new Map<string, { syscalls: Set<string>; denials: Map<string, AllowedDenial> }>();
  readonly #facts = new Map<string, ProgramFacts>();
  droppedPrograms = 0;

  add(programs: ProgramBaselines, facts: unknown): void {
    for (const [name, p] of Object.entries(programs)) {
      let m = this.#programs.get(name);
      if (m === undefined) {
        if (this.#programs.size >= MAX_LEARNED_PROGRAMS) {
          this.droppedPrograms++;
          continue;
        }
        m = { syscalls: new Set(), denials: new Map() };
        this.#programs.set(name, m);
      }
      for (const s of p.baselineSyscalls) if (m.syscalls.size < MAX_PROGRAM_SYSCALLS) m.syscalls.add(s);
      for (const a of p.allowedDenials ?? [])
        if (m.denials.size < MAX_PROGRAM_DENIALS) m.denials.set(denialKey(a), a);
      const seen = (facts as Record<string, Partial<ProgramFacts>> | undefined)?.[name];
      const sum = this.#facts.get(name) ?? { events: 0, processes: 0, syscalls: 0 };
      sum.events += num(seen?.events);
      sum.processes += num(seen?.processes);
      this.#facts.set(name, sum);
    }
  }

  toPrograms(): Record<string, LearnedProgram> {
    const out: Record<string, LearnedProgram> = {};
    for (const name of [...this.#programs.keys()].sort()) {
      const m = this.#programs.get(name)!;
      out[name] = entry(m.syscalls, m.denials.values());
    }
    return out;
  }

  facts(): Record<string, ProgramFacts> {
    const out: Record<string, ProgramFacts> = {};
    for (const name of [...this.#programs.keys()].sort()) {
      out[name] = { ...this.#facts.get(name)!, syscalls: this.#programs.get(name)!.syscalls.size };
    }
    return out;
  }
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}
