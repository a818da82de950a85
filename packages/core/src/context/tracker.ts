/**
 * The context tracker: reads records in input order (as `createParser` yields them) and
 * attaches who did what to what (`process`, `paths`, `peer`, `local`, `host`) to each
 * syscall event and audit event, in place. It is also the ProcessLookup rules use to walk
 * ancestors. Pure and bounded: no I/O, caps on processes, fds, argv and paths.
 */
import { SyscanError } from '../errors.js';
import type { ParsedRecord } from '../types.js';
import { AuditContext } from './audit-context.js';
import { ProcessTable } from './process-table.js';
import type { SpawnInfo } from './spawn.js';
import { StraceContext } from './strace-context.js';
import type { ProcessInfo, ProcessLookup } from './types.js';

export type { SpawnInfo } from './spawn.js';

/** Caps and hooks of a context tracker. Every number must be a positive integer. */
export interface ContextTrackerOptions {
  /** Most processes (pids and thread ids) remembered. Defaults to `32_768` (the default pid_max). */
  maxProcesses?: number | undefined;
  /** Exited processes kept for late lines before they are forgotten. Defaults to `1_024`. */
  exitedGrace?: number | undefined;
  /** Most fds remembered per process (the oldest-opened go first). Defaults to `1_024`. */
  maxFdsPerProcess?: number | undefined;
  /** Most argv entries kept. Defaults to `256`. */
  maxArgs?: number | undefined;
  /** Longest argv entry kept, in characters. Defaults to `4_096`. */
  maxArgLength?: number | undefined;
  /** Most paths attached to one event. Defaults to `16`. */
  maxPathsPerEvent?: number | undefined;
  /** Longest path kept (PATH_MAX). Defaults to `4_096`. */
  maxPathLength?: number | undefined;
  /** Called for every clone/fork/vfork a trace shows (CLONE_UNTRACED children included). */
  onSpawn?: ((spawn: SpawnInfo) => void) | undefined;
}

/** What a tracker has seen, for summaries and tests. */
export interface ContextTrackerStats {
  /** Processes and threads currently remembered. */
  readonly processes: number;
  /** Entries forgotten because of the caps or after their exit grace. */
  readonly evicted: number;
  /** Live processes pushed out by `maxProcesses`: their later events start from nothing (context lost). */
  readonly evictedLive: number;
  /** Open fds forgotten because a process had more than `maxFdsPerProcess` (their paths are lost). */
  readonly forgottenFds: number;
  /** clone/fork/vfork calls seen. */
  readonly spawns: number;
  /** Of those, children created with CLONE_UNTRACED (never seen by the tracer). */
  readonly untracedSpawns: number;
  /**
   * Paths that climb (`../…`) out of a working directory the trace never showed (strace
   * without -y, no chdir to an absolute path or getcwd before): they could be anywhere.
   */
  readonly unresolvedPaths: number;
  /** The first of them. */
  readonly firstUnresolvedPath?:
    | {
        readonly path: string;
        readonly syscall: string;
        readonly line: number | undefined;
        readonly pid: number | undefined;
      }
    | undefined;
}

export interface ContextTracker extends ProcessLookup {
  /** Attaches context to `record` in place (syscall and audit events) and returns it. */
  observe<R extends ParsedRecord>(record: R): R;
  /** Latest snapshot of `pid` (a thread id gives its process), exited ones for a grace period. */
  process(pid: number): ProcessInfo | undefined;
  /** Parent, grandparent, … of `pid`, nearest first, at most `max` (default 16; cycles stop). */
  ancestors(pid: number, max?: number): ProcessInfo[];
  /** How `pid` was created, when the trace showed its clone/fork (bounded: recent spawns). */
  spawnOf(pid: number): SpawnInfo | undefined;
  readonly stats: ContextTrackerStats;
}

const DEFAULTS = {
  maxProcesses: 32_768,
  exitedGrace: 1_024,
  maxFdsPerProcess: 1_024,
  maxArgs: 256,
  maxArgLength: 4_096,
  maxPathsPerEvent: 16,
  maxPathLength: 4_096,
} as const;

/** Spawns remembered for spawnOf(). */
const MAX_SPAWNS = 4_096;

/**
 * Creates a context tracker.
 *
 * @example
 * const tracker = createContextTracker({ onSpawn: (s) => s.untraced && warn(s) });
 * for (const record of parser.push(chunk)) handle(tracker.observe(record));
 * // record.process?.argv, record.paths?.[0], record.peer?.address, tracker.ancestors(pid)
 */
export function createContextTracker(options: ContextTrackerOptions = {}): ContextTracker {
  const limits = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const v = options[key];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1) {
      throw new SyscanError(
        'ERR_SYSCAN_CONFIG',
        `context tracker: ${key} must be a positive integer, got ${String(v)}`,
      );
    }
    limits[key] = v as never;
  }
  return new Tracker(limits, options.onSpawn);
}

class Tracker implements ContextTracker {
  readonly #table: ProcessTable;
  readonly #strace: StraceContext;
  readonly #audit: AuditContext;
  readonly #spawns = new Map<number, SpawnInfo>();
  #spawnCount = 0;
  #untraced = 0;

  constructor(
    limits: { [K in keyof typeof DEFAULTS]: number },
    onSpawn: ((s: SpawnInfo) => void) | undefined,
  ) {
    this.#table = new ProcessTable(limits.maxProcesses, limits.exitedGrace);
    this.#audit = new AuditContext(this.#table, limits);
    this.#strace = new StraceContext(this.#table, limits, (spawn) => {
      this.#spawnCount++;
      if (spawn.untraced) this.#untraced++;
      const spawns = this.#spawns;
      spawns.delete(spawn.child);
      if (spawns.size >= MAX_SPAWNS) spawns.delete(spawns.keys().next().value as number);
      spawns.set(spawn.child, spawn);
      onSpawn?.(spawn);
    });
  }

  observe<R extends ParsedRecord>(record: R): R {
    switch (record.kind) {
      case 'syscall':
        if (record.source === 'strace') this.#strace.observe(record);
        else this.#audit.observe(record);
        break;
      case 'audit':
        this.#audit.observe(record);
        break;
      case 'exit':
        if (record.source === 'strace') this.#strace.exit(record);
        break;
    }
    return record;
  }

  process(pid: number): ProcessInfo | undefined {
    return this.#table.peek(pid)?.snapshot();
  }

  ancestors(pid: number, max = 16): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    const seen = new Set<number>([pid]);
    let ppid = this.process(pid)?.ppid;
    while (ppid !== undefined && out.length < max && !seen.has(ppid)) {
      seen.add(ppid);
      const p = this.process(ppid);
      if (p === undefined) break;
      out.push(p);
      ppid = p.ppid;
    }
    return out;
  }

  spawnOf(pid: number): SpawnInfo | undefined {
    return this.#spawns.get(pid);
  }

  get stats(): ContextTrackerStats {
    return {
      processes: this.#table.size,
      evicted: this.#table.evicted,
      evictedLive: this.#table.evictedLive,
      forgottenFds: this.#strace.forgottenFds,
      spawns: this.#spawnCount,
      untracedSpawns: this.#untraced,
      unresolvedPaths: this.#strace.unresolvedPaths,
      firstUnresolvedPath: this.#strace.firstUnresolved,
    };
  }
}
