/**
 * What a rule may ask about the run so far: which files this run wrote or made executable,
 * for `syscan.exe_written` / `syscan.exe_made_executable` (download-and-run, drop-and-exec).
 * Bounded: past {@link MAX_TRACKED_PATHS} the oldest paths are forgotten, and the count of
 * forgotten paths is kept so a caller can say so.
 */
import type { SyscallEvent } from '../types.js';
import { mainPath } from './field-readers.js';
import { auditOpenMode, chmodMode, type OpenMode, openMode, splitArgs } from './syscall-args.js';

export const MAX_TRACKED_PATHS = 8192;

const RENAMES = new Set(['rename', 'renameat', 'renameat2', 'link', 'linkat']);
const CHMODS = new Set(['chmod', 'fchmod', 'fchmodat']);
const OPENS = new Set(['open', 'openat', 'openat2', 'creat']);

function remember(set: Set<string>, path: string, state: RunState): void {
  set.delete(path);
  set.add(path);
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
  /** Paths dropped because the sets were full. */
  forgotten = 0;

  /** Records what `event` did to files. Call for every event, before the rules look at it. */
  observe(event: SyscallEvent, knownMode?: OpenMode | null): void {
    const name = event.syscall;
    const path = mainPath(event);
    if (path === undefined || event.errno !== undefined || event.ret?.startsWith('-')) return;
    if (OPENS.has(name)) {
      const mode =
        knownMode !== undefined
          ? knownMode
          : event.source === 'audit'
            ? auditOpenMode(name, event.audit?.fields)
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
    this.written.clear();
    this.executable.clear();
    this.forgotten = 0;
  }
}

/** Syscalls {@link RunState.observe} learns from (the evaluator feeds it only these). */
export const RUN_STATE_SYSCALLS: ReadonlySet<string> = new Set([...OPENS, ...RENAMES, ...CHMODS]);
