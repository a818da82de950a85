/**
 * How long the trace reader sleeps between reads while the trace flows. Every wake-up costs
 * the runner about as much as judging 100 lines (a timer, an event-loop turn and a read: in a
 * VM 150-200 µs of CPU, measured), so the reader sleeps as long as it can: until about half
 * the pipe has piled up, at the rate the trace has been coming, and never longer than
 * {@link MAX_WAIT_MS}, which bounds how late an alert is seen. A read that finds the pipe
 * nearly full is followed by another at once.
 */

/** Bytes a read aims to find: half a default pipe (64 KiB), so a burst still fits while the reader sleeps. */
export const TARGET_READ_BYTES = 32 * 1024;
/** A read this large means strace may have waited for room: read again without sleeping. */
export const NEARLY_FULL_BYTES = 48 * 1024;
/** The longest pause between reads while the trace flows: how late, at most, an alert is seen. */
export const MAX_WAIT_MS = 20;
/** The shortest pause (the first one too): below it, timers are too coarse to matter. */
export const MIN_WAIT_MS = 2;

export class ReadPace {
  #waitMs = MIN_WAIT_MS;

  /**
   * The pause before the next read, in ms (0: do not sleep, only let the event loop run),
   * given the bytes the last read found.
   */
  next(lastBytes: number): number {
    if (lastBytes >= NEARLY_FULL_BYTES) {
      this.#waitMs = MIN_WAIT_MS;
      return 0;
    }
    // The rate of the last pause, projected to the target: at most doubling per read, so a
    // trace that starts slowly and then floods is caught up with within a few reads.
    const wanted = (this.#waitMs * TARGET_READ_BYTES) / Math.max(lastBytes, 1);
    this.#waitMs = Math.round(Math.min(MAX_WAIT_MS, this.#waitMs * 2, Math.max(MIN_WAIT_MS, wanted)));
    return this.#waitMs;
  }
}
