/**
 * What the calls of an explained window were on: the file or the peer each one named, as the
 * trace's process context gives them. The model sees only call names; a person reading "openat
 * read socket connect write" needs to know it was /etc/shadow and 10.0.0.5:4444 to act without
 * the raw log. A scorer keeps them per process for its latest calls that named one, so the
 * window at the call that takes a process over its threshold (nearly always among its latest)
 * has them.
 */
import { openedElsewhere } from '../context/opened-path.js';
import { detach } from '../detach.js';
import { eventTarget } from '../detect/verdict.js';
import type { SyscallEvent } from '../types.js';
import type { SequenceExplanation } from './explain.js';

/**
 * Latest calls with a target kept per process: the default window of 16 calls. (32, and the
 * parser's slices kept as they came, took a 1 GB audit log from 188 to 327 MiB.)
 */
const KEPT_PER_PROCESS = 16;
/** Distinct targets kept as one copy each (most calls are on a few files): past it, it starts over. */
const MAX_COPIES = 4096;
/** Targets named in the explanation's summary (all are on the window's calls). */
const NAMED_IN_SUMMARY = 3;

/** The file a call named (with the one it really opened, under strace -y), else its peer. */
export function callTarget(event: SyscallEvent): string | undefined {
  if (event.paths === undefined && event.peer === undefined) return undefined;
  return eventTarget(event, openedElsewhere(event));
}

/** One copy of each target, shared by every process of a scorer: a path read by thousands of calls is held once. */
export class TargetCopies {
  readonly #copies = new Map<string, string>();

  /** A copy of `target` that keeps no chunk of the input alive. */
  copy(target: string): string {
    let kept = this.#copies.get(target);
    if (kept === undefined) {
      kept = detach(target);
      if (this.#copies.size >= MAX_COPIES) this.#copies.clear();
      this.#copies.set(kept, kept);
    }
    return kept;
  }
}

/** The targets of one process's latest calls that named one. */
export class RecentTargets {
  readonly #lines: number[] = [];
  readonly #targets: string[] = [];
  /** Next slot to overwrite once full. */
  #next = 0;

  note(line: number, target: string): void {
    if (this.#lines.length < KEPT_PER_PROCESS) {
      this.#lines.push(line);
      this.#targets.push(target);
      return;
    }
    this.#lines[this.#next] = line;
    this.#targets[this.#next] = target;
    this.#next = (this.#next + 1) % KEPT_PER_PROCESS;
  }

  /**
   * Puts the target of each call of the window it knows on that call, and names them at the end
   * of the summary (`…; in that window: /etc/shadow (openat :528), 10.0.0.5:4444 (connect :590)`).
   */
  annotate(explanation: SequenceExplanation): void {
    const named: string[] = [];
    const seen = new Set<string>();
    for (const call of explanation.window.calls) {
      if (call.line === undefined) continue;
      const at = this.#lines.indexOf(call.line);
      if (at < 0) continue;
      const target = this.#targets[at] as string;
      call.target = target;
      if (seen.has(target)) continue;
      seen.add(target);
      named.push(`${target} (${call.syscall} :${call.line})`);
    }
    if (named.length === 0) return;
    const more = named.length > NAMED_IN_SUMMARY ? `, … ${named.length} in all` : '';
    explanation.summary = `${explanation.summary}; in that window: ${named.slice(0, NAMED_IN_SUMMARY).join(', ')}${more}`;
  }
}
