/**
 * What the calls of a sequence alert's window were on: the file or the peer each one named, as
 * the context tracker found them. The model sees only call names; a person reading "openat
 * read socket connect write" needs to know it was /etc/shadow and 10.0.0.5:4444 to act without
 * the raw log. Kept per process for its latest calls that named one, so the window at the
 * call that takes the process over its threshold (nearly always among its latest) has them.
 */
import { openedElsewhere } from '../../context/opened-path.js';
import { detach } from '../../detach.js';
import { eventTarget } from '../../detect/verdict.js';
import type { SequenceExplanation } from '../../sequence/explain.js';
import type { SyscallEvent } from '../../types.js';

/** Latest calls with a target kept per process: the default window of 16 calls (more cost 12 MiB on a 1 GB audit log for 32). */
const KEPT_PER_PROCESS = 16;
/** Distinct targets kept as one copy each (most calls are on a few files): past it, it starts over. */
const MAX_INTERNED = 4096;
/** Targets named in the alert's summary (all are on the window's calls). */
const NAMED_IN_SUMMARY = 3;

interface Recent {
  lines: number[];
  targets: string[];
  /** Next slot to overwrite once full. */
  next: number;
}

export class WindowTargets {
  readonly #byPid = new Map<number, Recent>();
  /** One copy of each target: a path read by thousands of calls is held once. */
  readonly #interned = new Map<string, string>();
  readonly #maxProcesses: number;

  constructor(maxProcesses: number) {
    this.#maxProcesses = maxProcesses;
  }

  /** Notes the file or peer of a call, when it named one. */
  note(event: SyscallEvent): void {
    // Its first path (with the file it really opened, under strace -y), else its peer.
    const named = eventTarget(event, openedElsewhere(event));
    if (named === undefined || event.line === undefined) return;
    // Kept past the chunk it was read from: a copy, or it keeps the whole chunk alive.
    let target = this.#interned.get(named);
    if (target === undefined) {
      target = detach(named);
      if (this.#interned.size >= MAX_INTERNED) this.#interned.clear();
      this.#interned.set(target, target);
    }
    const pid = event.pid ?? 0;
    let recent = this.#byPid.get(pid);
    if (recent === undefined) {
      // As many processes as the scorer holds; the one noted longest ago goes first.
      if (this.#byPid.size >= this.#maxProcesses)
        this.#byPid.delete(this.#byPid.keys().next().value as number);
      recent = { lines: [], targets: [], next: 0 };
      this.#byPid.set(pid, recent);
    }
    if (recent.lines.length < KEPT_PER_PROCESS) {
      recent.lines.push(event.line);
      recent.targets.push(target);
    } else {
      recent.lines[recent.next] = event.line;
      recent.targets[recent.next] = target;
      recent.next = (recent.next + 1) % KEPT_PER_PROCESS;
    }
  }

  /** The process ended: its pid may go to another one. */
  forget(pid: number): void {
    this.#byPid.delete(pid);
  }

  /**
   * Puts the target of each call of the window it knows on that call, and returns the summary
   * with them named (`…; on /etc/shadow (openat :528), 10.0.0.5:4444 (connect :590)`).
   */
  annotate(pid: number, explanation: SequenceExplanation): string {
    const recent = this.#byPid.get(pid);
    if (recent === undefined) return explanation.summary;
    const named: string[] = [];
    const seen = new Set<string>();
    for (const call of explanation.window.calls) {
      if (call.line === undefined) continue;
      const at = recent.lines.indexOf(call.line);
      if (at < 0) continue;
      const target = recent.targets[at] as string;
      call.target = target;
      if (seen.has(target)) continue;
      seen.add(target);
      named.push(`${target} (${call.syscall} :${call.line})`);
    }
    if (named.length === 0) return explanation.summary;
    const more = named.length > NAMED_IN_SUMMARY ? `, … ${named.length} in all` : '';
    explanation.summary = `${explanation.summary}; in that window: ${named.slice(0, NAMED_IN_SUMMARY).join(', ')}${more}`;
    return explanation.summary;
  }
}
