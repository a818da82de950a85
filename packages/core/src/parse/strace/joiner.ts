/**
 * Joins `<unfinished …>` halves with their `<… resumed>` lines, by pid. Bounded: at most
 * MAX_PENDING_CALLS halves wait at once (one per pid is the rule); past it the oldest is
 * given up as unfinished, never dropped.
 */
import type { ParsedRecord } from '../../types.js';
import { type PendingCall, unfinishedEvent } from './records.js';
import { SPAWN_CALLS } from './spawn-hints.js';

/** Most `<unfinished …>` halves waiting for their `<… resumed>` at once (one per pid). */
export const MAX_PENDING_CALLS = 4096;

export class CallJoiner {
  /** Insertion-ordered, so the oldest half is the first key when the cap is reached. */
  readonly #pending = new Map<number, PendingCall>();
  /** Keys of the pending clone/clone3/fork/vfork halves (so a new pid's look costs nothing). */
  readonly #spawnKeys = new Set<number>();
  /** The key `take` last took a half from (for `restore`). */
  #takenKey = 0;

  /**
   * Takes the half a `<… NAME resumed>` line of `pid` closes: the pid's own half when it is
   * a `name` call (a half of another call is given up as unfinished into `out`), else a
   * prefix-less one (see `#findUnprefixed`). Undefined when there is none.
   */
  take(pid: number | undefined, name: string, out: ParsedRecord[]): PendingCall | undefined {
    let key = pid ?? 0;
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      // Written to stderr, strace prints `[pid N]` only while several processes live, so
      // one process's halves can come with and without the prefix.
      key = this.#findUnprefixed(key, name);
      pending = this.#pending.get(key);
    }
    if (pending === undefined) return undefined;
    this.#forget(key);
    this.#takenKey = key;
    if (pending.syscall === name) return pending;
    out.push(unfinishedEvent(pending));
    return undefined;
  }

  /**
   * The one clone/clone3/fork/vfork half of a pid other than `pid` still waiting for its
   * return; undefined when there is none or several (which child is whose is then unknown).
   */
  onlySpawnHalf(pid: number): PendingCall | undefined {
    if (this.#spawnKeys.size !== 1) return undefined;
    const call = this.#pending.get(this.#spawnKeys.values().next().value as number);
    return call === undefined || call.pid === undefined || call.pid === pid ? undefined : call;
  }

  #hold(key: number, call: PendingCall): void {
    this.#pending.set(key, call);
    if (SPAWN_CALLS.has(call.syscall)) this.#spawnKeys.add(key);
    else this.#spawnKeys.delete(key);
  }

  #forget(key: number): void {
    this.#pending.delete(key);
    this.#spawnKeys.delete(key);
  }

  /** Puts back the half `take` last returned, under its key (its resumed line did not complete it). */
  restore(call: PendingCall): void {
    this.#hold(this.#takenKey, call);
  }

  /**
   * Key of the pending `name` half a resumed line with no half under its own `key` may
   * close: a prefix-less half (key 0) for a `[pid N]` line, or for a prefix-less line the
   * only pending half of that name. Returns `key` when there is none.
   */
  #findUnprefixed(key: number, name: string): number {
    if (key !== 0) return this.#pending.get(0)?.syscall === name ? 0 : key;
    let found = key;
    for (const [k, call] of this.#pending) {
      if (call.syscall !== name) continue;
      if (found !== key) return key; // ambiguous: leave it
      found = k;
    }
    return found;
  }

  /** Holds a half until its resumed line; a pid's earlier half is given up as unfinished. */
  add(call: PendingCall, out: ParsedRecord[]): void {
    const key = call.pid ?? 0;
    const previous = this.#pending.get(key);
    if (previous !== undefined) {
      // A second half for the same pid: the first will never be resumed.
      this.#forget(key);
      out.push(unfinishedEvent(previous));
    } else if (this.#pending.size >= MAX_PENDING_CALLS) {
      const oldest = this.#pending.keys().next().value as number;
      out.push(unfinishedEvent(this.#pending.get(oldest)!));
      this.#forget(oldest);
    }
    this.#hold(key, call);
  }

  /** The process is gone: a call it left unfinished will never be resumed. */
  flushPid(pid: number | undefined, out: ParsedRecord[]): void {
    const key = pid ?? 0;
    const pending = this.#pending.get(key);
    if (pending === undefined) return;
    this.#forget(key);
    out.push(unfinishedEvent(pending));
  }

  /** End of input: every half still waiting, as unfinished. */
  end(out: ParsedRecord[]): void {
    for (const call of this.#pending.values()) out.push(unfinishedEvent(call));
    this.#pending.clear();
    this.#spawnKeys.clear();
  }
}
