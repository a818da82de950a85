/**
 * The tracker's memory of processes: one `TrackedProcess` per thread group, reachable
 * from every thread id that belongs to it, with its fd table and working directory (both
 * shareable, as CLONE_FILES and CLONE_FS share them). Everything is capped: processes
 * (exited ones evicted first, then the least recently used), fds per table, exited
 * entries kept for late lines.
 */
import type { ProcessInfo, SocketAddress, SocketFamily } from './types.js';

/** What an fd refers to. Immutable: a change makes a new entry. */
export interface FdEntry {
  /** File path (absolute where the trace allows), or `pipe:`, `socket:`, … kinds. */
  readonly path: string | undefined;
  /** `[path]`, made once so events on this fd share it. */
  readonly paths: readonly string[] | undefined;
  readonly socket: SocketState | undefined;
  /** Opened with O_CLOEXEC / SOCK_CLOEXEC: closed by a successful execve. */
  readonly cloexec: boolean;
  /** The `-y` decoration text the entry was read from (skip re-reading it when unchanged). */
  readonly decoration: string | undefined;
}

export interface SocketState {
  readonly family: SocketFamily;
  readonly protocol: SocketAddress['protocol'];
  readonly peer: SocketAddress | undefined;
  readonly local: SocketAddress | undefined;
}

/** `paths` may be passed when the caller already holds `[path]` (an open's own event paths). */
export function fileEntry(
  path: string,
  cloexec: boolean,
  decoration?: string,
  paths: readonly string[] = [path],
): FdEntry {
  return { path, paths, socket: undefined, cloexec, decoration };
}

export function socketEntry(socket: SocketState, cloexec: boolean, decoration?: string): FdEntry {
  return { path: undefined, paths: undefined, socket, cloexec, decoration };
}

/** The fd cap every table of one tracker shares, and how many fds it made them forget. */
export interface FdCap {
  readonly max: number;
  forgotten: number;
}

/** An fd table, bounded: past the cap the oldest-opened fd is forgotten (and counted). */
export class FdTable {
  /** Made at the first fd: audit's processes (no fds in the telemetry) never pay for a Map. */
  #fds: Map<number, FdEntry> | undefined;
  readonly #cap: FdCap;

  constructor(cap: FdCap) {
    this.#cap = cap;
  }

  get(fd: number): FdEntry | undefined {
    return this.#fds?.get(fd);
  }

  set(fd: number, entry: FdEntry): void {
    this.#fds ??= new Map();
    const fds = this.#fds;
    // delete() says whether it was there: one look-up, not has() then delete().
    if (!fds.delete(fd) && fds.size >= this.#cap.max) {
      fds.delete(fds.keys().next().value as number);
      this.#cap.forgotten++;
    }
    fds.set(fd, entry);
  }

  delete(fd: number): void {
    this.#fds?.delete(fd);
  }

  /** A copy for a child that does not share its parent's table (fork without CLONE_FILES). */
  copy(): FdTable {
    const t = new FdTable(this.#cap);
    if (this.#fds !== undefined) t.#fds = new Map(this.#fds);
    return t;
  }

  /** execve: close-on-exec fds go away. */
  closeOnExec(): void {
    const fds = this.#fds;
    if (fds !== undefined) for (const [fd, e] of fds) if (e.cloexec) fds.delete(fd);
  }

  get size(): number {
    return this.#fds?.size ?? 0;
  }
}

/** Working directory holder, shared by processes cloned with CLONE_FS. */
export interface FsState {
  cwd: string | undefined;
}

/** One thread group as far as the telemetry shows it. Mutable; `snapshot()` is not. */
export class TrackedProcess {
  pid: number;
  ppid: number | undefined;
  exe: string | undefined;
  comm: string | undefined;
  argv: readonly string[] | undefined;
  argvTruncated = false;
  argvCut: readonly number[] | undefined;
  uid: number | undefined;
  euid: number | undefined;
  gid: number | undefined;
  egid: number | undefined;
  auid: number | undefined;
  user: string | undefined;
  loginUser: string | undefined;
  ses: number | undefined;
  tty: string | undefined;
  fs: FsState;
  files: FdTable;
  /** Threads (tids) currently mapped to this group, the leader included. */
  threads = 1;
  exited = false;
  /** Audit: the last ids run and argv source read for this pid (unchanged ones are not re-read). */
  auditSubject: string | undefined;
  auditArgvSource: string | readonly string[] | undefined;
  /** Input line of the first event seen from it (tells an early child from a reused pid). */
  firstLine: number | undefined;
  /** pid whose pending clone it was taken for at first sight (a spawn hint), until that clone returns it. */
  adoptedFrom: number | undefined;
  #snapshot: ProcessInfo | undefined;
  #snapshotCwd: string | undefined;

  constructor(pid: number, fs: FsState, files: FdTable) {
    this.pid = pid;
    this.fs = fs;
    this.files = files;
  }

  /** The facts changed: the next snapshot() makes a new object. */
  changed(): void {
    this.#snapshot = undefined;
  }

  /**
   * The current facts as an immutable ProcessInfo, the same object until something changes
   * (a cwd changed through a shared FsState is noticed here, by reference).
   */
  snapshot(): ProcessInfo {
    const s = this.#snapshot;
    if (s !== undefined && this.#snapshotCwd === this.fs.cwd) return s;
    const cwd = this.fs.cwd;
    const info: { -readonly [K in keyof ProcessInfo]: ProcessInfo[K] } = { pid: this.pid };
    if (this.ppid !== undefined) info.ppid = this.ppid;
    if (this.exe !== undefined) info.exe = this.exe;
    if (this.comm !== undefined) info.comm = this.comm;
    if (this.argv !== undefined) info.argv = this.argv;
    if (this.argvTruncated) info.argvTruncated = true;
    if (this.argvCut !== undefined) info.argvCut = this.argvCut;
    if (cwd !== undefined) info.cwd = cwd;
    if (this.uid !== undefined) info.uid = this.uid;
    if (this.euid !== undefined) info.euid = this.euid;
    if (this.gid !== undefined) info.gid = this.gid;
    if (this.egid !== undefined) info.egid = this.egid;
    if (this.auid !== undefined) info.auid = this.auid;
    if (this.user !== undefined) info.user = this.user;
    if (this.loginUser !== undefined) info.loginUser = this.loginUser;
    if (this.ses !== undefined) info.ses = this.ses;
    if (this.tty !== undefined) info.tty = this.tty;
    const frozen = Object.freeze(info);
    this.#snapshot = frozen;
    this.#snapshotCwd = cwd;
    return frozen;
  }

  /** A child's starting facts: everything a forked process inherits. */
  inheritFrom(parent: TrackedProcess): void {
    this.exe ??= parent.exe;
    this.comm ??= parent.comm;
    if (this.argv === undefined && parent.argv !== undefined) {
      this.argv = parent.argv;
      this.argvTruncated = parent.argvTruncated;
      this.argvCut = parent.argvCut;
    }
    this.uid ??= parent.uid;
    this.euid ??= parent.euid;
    this.gid ??= parent.gid;
    this.egid ??= parent.egid;
    this.auid ??= parent.auid;
    this.user ??= parent.user;
    this.loginUser ??= parent.loginUser;
    this.ses ??= parent.ses;
    this.tty ??= parent.tty;
    this.changed();
  }
}

/** One tid's place in the use order (a doubly linked list: moving and evicting are O(1)). */
interface Slot {
  readonly tid: number;
  proc: TrackedProcess;
  prev: Slot | undefined;
  next: Slot | undefined;
}

/**
 * tid → thread group, bounded at `max` tids. Exited entries stay for `grace` further exits
 * (late `<… resumed>` lines and children's events still resolve), and go first when the
 * table is full; after them, the least recently used (the head of the use list).
 */
export class ProcessTable {
  readonly #byTid = new Map<number, Slot>();
  readonly #max: number;
  readonly #grace: number;
  /** Least and most recently used. */
  #head: Slot | undefined;
  #tail: Slot | undefined;
  /** tids in exit order, for the grace bound (entries may be stale: checked on removal). */
  #exitedTids: number[] = [];
  #exitedHead = 0;
  /** Entries forgotten: exited ones past their grace, and live ones pushed out by the cap. */
  evicted = 0;
  /** Of those, live processes (their later calls start from nothing: context was lost). */
  evictedLive = 0;

  constructor(max: number, grace: number) {
    this.#max = max;
    this.#grace = grace;
  }

  get size(): number {
    return this.#byTid.size;
  }

  /** The group of `tid`, marked as just used. */
  get(tid: number): TrackedProcess | undefined {
    const slot = this.#byTid.get(tid);
    if (slot === undefined) return undefined;
    if (slot !== this.#tail) {
      this.#unlink(slot);
      this.#append(slot);
    }
    return slot.proc;
  }

  /** The group of `tid` without touching its use time (look-ups by rules). */
  peek(tid: number): TrackedProcess | undefined {
    return this.#byTid.get(tid)?.proc;
  }

  /** Maps `tid` to `proc` (a new process, or a thread joining one), as just used. */
  set(tid: number, proc: TrackedProcess): void {
    const slot = this.#byTid.get(tid);
    if (slot !== undefined) {
      if (slot.proc !== proc) slot.proc.threads--;
      slot.proc = proc;
      if (slot !== this.#tail) {
        this.#unlink(slot);
        this.#append(slot);
      }
      return;
    }
    if (this.#byTid.size >= this.#max) this.#evict();
    const fresh: Slot = { tid, proc, prev: undefined, next: undefined };
    this.#byTid.set(tid, fresh);
    this.#append(fresh);
  }

  /** `tid` ended (`+++ exited`/`killed`): kept for the grace period, then forgotten. */
  exit(tid: number): void {
    const p = this.#byTid.get(tid)?.proc;
    if (p === undefined) return;
    if (tid !== p.pid) {
      // A thread other than the leader: its tid goes at once, the group stays.
      this.#remove(tid);
      p.threads--;
      if (p.threads <= 0) p.exited = true;
      return;
    }
    p.exited = true;
    this.#exitedTids.push(tid);
    while (this.#exitedTids.length - this.#exitedHead > this.#grace) {
      this.#drop(this.#exitedTids[this.#exitedHead++]!);
    }
    if (this.#exitedHead > 4096) {
      this.#exitedTids = this.#exitedTids.slice(this.#exitedHead);
      this.#exitedHead = 0;
    }
  }

  #append(slot: Slot): void {
    slot.prev = this.#tail;
    slot.next = undefined;
    if (this.#tail !== undefined) this.#tail.next = slot;
    else this.#head = slot;
    this.#tail = slot;
  }

  #unlink(slot: Slot): void {
    if (slot.prev !== undefined) slot.prev.next = slot.next;
    else this.#head = slot.next;
    if (slot.next !== undefined) slot.next.prev = slot.prev;
    else this.#tail = slot.prev;
  }

  #remove(tid: number): void {
    const slot = this.#byTid.get(tid);
    if (slot === undefined) return;
    this.#byTid.delete(tid);
    this.#unlink(slot);
  }

  /** Forgets an exited entry (not a live process that reused its pid since). */
  #drop(tid: number): void {
    if (this.#byTid.get(tid)?.proc.exited) {
      this.#remove(tid);
      this.evicted++;
    }
  }

  #evict(): void {
    const map = this.#byTid;
    // Exited first, oldest exit first.
    while (this.#exitedHead < this.#exitedTids.length && map.size >= this.#max) {
      this.#drop(this.#exitedTids[this.#exitedHead++]!);
    }
    const lru = this.#head;
    if (map.size < this.#max || lru === undefined) return;
    this.#remove(lru.tid);
    lru.proc.threads--;
    this.evicted++;
    if (!lru.proc.exited) this.evictedLive++;
  }
}
