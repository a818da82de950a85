/**
 * What a rule may ask about the run so far: which files this run wrote or made executable,
 * for `syscan.exe_written` / `syscan.exe_made_executable` (download-and-run, drop-and-exec).
 * Bounded: past {@link MAX_TRACKED_PATHS} the oldest paths are forgotten, and the count of
 * forgotten paths is kept so a caller can say so.
 */
import { detach } from '../detach.js';
import type { SyscallEvent } from '../types.js';
import { mainPath } from './field-readers.js';
import { auditOpenMode, chmodMode, type OpenMode, openMode, splitArgs } from './syscall-args.js';

export const MAX_TRACKED_PATHS = 8192;

const RENAMES = new Set(['rename', 'renameat', 'renameat2', 'link', 'linkat']);
const CHMODS = new Set(['chmod', 'fchmod', 'fchmodat']);
const OPENS = new Set(['open', 'openat', 'openat2', 'creat']);
const SYMLINKS = new Set(['symlink', 'symlinkat']);
/** Symlink chains followed at most this far (the kernel's own limit is 40). */
const MAX_LINK_HOPS = 8;

function remember(set: Set<string>, path: string, state: RunState): void {
  set.delete(path);
  // A copy of its own: a path is a slice of its trace line, which would keep the whole read
  // chunk alive (8 192 paths held ~90 MiB of chunks on a 200 MB audit log).
  set.add(detach(path));
  if (set.size > MAX_TRACKED_PATHS) {
    const oldest = set.values().next().value;
    if (oldest !== undefined) set.delete(oldest);
    state.forgotten++;
  }
}

/** Files written and made executable by the traced run, most recent last. */
export class RunState {
  readonly written = new Set<string>();
  readonly executable = new Set<string>();
  /** Symlinks this run made: link path → what it points to (resolved against the link's directory by the tracker). */
  readonly links = new Map<string, string>();
  /** Paths dropped because the sets were full. */
  forgotten = 0;

  /**
   * `path` with the symlinks this run made followed, so `ln -s ~/.ssh/id_rsa x; cat x` reads
   * as the key even without strace -y. Links made before the run are not known here.
   */
  resolve(path: string): string {
    if (this.links.size === 0) return path;
    let p = path;
    for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
      const next = this.links.get(p);
      if (next === undefined) return p;
      p = next;
    }
    return p;
  }

  /** Records what `event` did to files. Call for every event, before the rules look at it. */
  observe(event: SyscallEvent, knownMode?: OpenMode | null, knownPath?: string | null): void {
    const name = event.syscall;
    if (event.errno !== undefined || event.ret?.startsWith('-')) return;
    const named = knownPath === undefined ? mainPath(event) : (knownPath ?? undefined);
    if (named === undefined) return;
    // A symlink's own name is what it creates; anything else acts on what the name points to
    // (a path from the rules' frame is resolved already).
    const path = SYMLINKS.has(name) || knownPath !== undefined ? named : this.resolve(named);
    if (SYMLINKS.has(name)) {
      const target = event.paths?.[1];
      if (target === undefined) return;
      this.links.delete(path);
      this.links.set(detach(path), detach(target));
      if (this.links.size > MAX_TRACKED_PATHS) {
        const oldest = this.links.keys().next().value;
        if (oldest !== undefined) this.links.delete(oldest);
        this.forgotten++;
      }
    } else if (OPENS.has(name)) {
      const mode =
        knownMode !== undefined
          ? knownMode
          : event.source === 'audit'
            ? auditOpenMode(name, event.audit)
            : openMode(name, event.args ?? '');
      if (mode === undefined || mode === null || !(mode.write || mode.create)) return;
      remember(this.written, path, this);
      if (mode.exec) remember(this.executable, path, this);
    } else if (RENAMES.has(name)) {
      const target = event.paths?.[1];
      if (target === undefined) return;
      // A file moved into place carries what was known of its old name.
      if (this.written.has(path)) remember(this.written, target, this);
      if (this.executable.has(path)) remember(this.executable, target, this);
    } else if (CHMODS.has(name)) {
      const mode = chmodMode(name, splitArgs(event.args ?? ''));
      if (mode !== undefined && (mode & 0o111) !== 0) remember(this.executable, path, this);
    }
  }

  reset(): void {
    this.links.clear();
    this.written.clear();
    this.executable.clear();
    this.forgotten = 0;
  }
}

/** Syscalls {@link RunState.observe} learns from (the evaluator feeds it only these). */
export const RUN_STATE_SYSCALLS: ReadonlySet<string> = new Set([
  ...OPENS,
  ...RENAMES,
  ...CHMODS,
  ...SYMLINKS,
]);
