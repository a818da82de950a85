/**
 * Groups records into one event per `audit(SEC.MS:SERIAL)` (and `node=`): records may
 * arrive out of order. An event is complete at its EOE; userspace records (which never get
 * one) complete at once; any other event completes once it is clearly over: AGE_RECORDS
 * records or AGE_MS of audit time after its latest record, when the pending set passes
 * MAX_PENDING (oldest first), or at end of input. This is how auparse decides too, minus
 * the wall clock a pure parser cannot read.
 */
import type { ParsedRecord } from '../../types.js';
import type { ValueDecoder } from './decoder.js';
import { emitEvent } from './emit.js';
import { PendingEvent } from './event.js';
import { PendingIndex } from './pending-index.js';
import { isSingleRecordType } from './record-types.js';
import type { Stamp } from './stamp.js';
import type { SyscallRecordReader } from './syscall-record.js';

/** An event is over once this many later records arrived without one of its own. */
const AGE_RECORDS = 64;
/** … or once the log's clock is this far past its latest record (auparse's eoe_timeout). */
const AGE_MS = 2000;
/** Most events held open at once; past it the oldest is completed. */
const MAX_PENDING = 256;
/** Most emitted events kept for reuse. */
const MAX_FREE = 512;
/** Keys of the latest events an EOE ended, remembered to notice records that come after it. */
const ENDED_KEPT = 256;

export class EventGrouper {
  readonly #deniedErrnos: ReadonlySet<string>;
  readonly #decoder: ValueDecoder;
  /** Takes back the syscall records of emitted events. */
  readonly #records: SyscallRecordReader;
  /** Events waiting for more records, by key and oldest first. */
  readonly #pending = new PendingIndex(MAX_PENDING + 1);
  /**
   * Emitted events kept for reuse (this grouper's own): an event lives for dozens of
   * records, long enough to be copied by the young-generation GC, so recycling them saves
   * both the allocation and the copying.
   */
  readonly #free: PendingEvent[] = [];
  #seq = 0;
  #newestTime = Number.NEGATIVE_INFINITY;
  /** The key of the event `open` last returned, and whether it waits for more records. */
  #openKey: number | string = -1;
  #openHeld = false;
  /** The event of the previous record while it is pending (cleared when it is emitted). */
  #lastHeld: PendingEvent | undefined;
  /** Keys of the last ENDED_KEPT events ended by their EOE, and the ring that ages them out. */
  readonly #ended = new Set<number | string>();
  readonly #endedRing: Array<number | string | undefined> = new Array(ENDED_KEPT);
  #endedAt = 0;

  constructor(deniedErrnos: ReadonlySet<string>, decoder: ValueDecoder, records: SyscallRecordReader) {
    this.#deniedErrnos = deniedErrnos;
    this.#decoder = decoder;
    this.#records = records;
  }

  /**
   * The event a record of `type` belongs to, its type already added; `raw`/`lineNo` are
   * the record's line. An EOE completes its event (into `out`) and returns undefined.
   * Call `close` once the record has been read into the event.
   */
  open(
    type: string,
    node: string | undefined,
    stamp: Stamp,
    raw: string,
    lineNo: number,
    out: ParsedRecord[],
  ): PendingEvent | undefined {
    const seq = ++this.#seq;
    const { serial, time } = stamp;
    if (time !== undefined && time > this.#newestTime) this.#newestTime = time;
    const key = serial === undefined ? -1 : node === undefined ? serial : `${node}:${serial}`;
    // The records of an event usually come one after another: the event of the previous
    // record, while still pending, is the one the map would return.
    const last = this.#lastHeld;
    let p =
      serial === undefined
        ? undefined
        : last !== undefined && last.key === key
          ? last
          : this.#pending.get(key, serial);
    if (type === 'EOE') {
      if (p !== undefined) {
        this.#pending.delete(p);
        this.#emit(p, out);
        this.#remember(key);
      }
      return undefined;
    }
    let held = true;
    if (p === undefined) {
      p = this.#event(key, serial, time, raw, lineNo, stamp.interpreted);
      p.node = node;
      if (serial !== undefined && this.#ended.has(key)) p.afterEnd = true;
      // Serial-less lines (the seed's `audit(1234)`) and userspace messages stand alone.
      held = serial !== undefined && !isSingleRecordType(type);
      if (held) this.#pending.add(p);
    }
    p.lastSeq = seq;
    p.addType(type);
    this.#openKey = key;
    this.#openHeld = held;
    this.#lastHeld = held ? p : undefined;
    return p;
  }

  /** The record `open` gave `p` for is read: completes `p` if it stands alone, and events that are over. */
  close(p: PendingEvent, out: ParsedRecord[]): void {
    if (!this.#openHeld) this.#emit(p, out);
    this.#expire(this.#openKey, this.#seq, out);
  }

  /** End of input: completes every pending event. */
  end(out: ParsedRecord[]): void {
    for (let p = this.#pending.first; p !== undefined; p = p.newerPending) this.#emit(p, out);
    this.#pending.clear();
  }

  /** `key`'s event was ended by its EOE: a record of it after this is not the kernel's order. */
  #remember(key: number | string): void {
    const old = this.#endedRing[this.#endedAt];
    if (old !== undefined) this.#ended.delete(old);
    this.#endedRing[this.#endedAt] = key;
    this.#endedAt = (this.#endedAt + 1) % ENDED_KEPT;
    this.#ended.add(key);
  }

  /** A fresh event, recycled from the emitted ones when possible. */
  #event(
    key: number | string,
    serial: number | undefined,
    time: number | undefined,
    line: string,
    lineNo: number,
    interpreted: boolean,
  ): PendingEvent {
    const p = this.#free.pop();
    if (p === undefined) return new PendingEvent(key, serial, time, line, lineNo, interpreted);
    p.init(key, serial, time, line, lineNo, interpreted);
    return p;
  }

  /** Emits a complete event and takes it (and its syscall records) back for reuse. */
  #emit(p: PendingEvent, out: ParsedRecord[]): void {
    if (p === this.#lastHeld) this.#lastHeld = undefined;
    emitEvent(p, out, this.#deniedErrnos, this.#decoder);
    for (let i = 0; i < p.syscallCount; i++) this.#records.release(p.syscalls[i]!);
    p.release();
    if (this.#free.length < MAX_FREE) this.#free.push(p);
  }

  /** Completes events that are over: old by records or audit time, or past the cap. */
  #expire(current: number | string, seq: number, out: ParsedRecord[]): void {
    const pending = this.#pending;
    if (pending.size <= 1) return;
    // The loop below stops at the oldest event unless it is over: decide that on the head
    // first (the usual case, once per record).
    const head = pending.first!;
    if (
      pending.size <= MAX_PENDING &&
      (head.key === current ||
        !(
          seq - head.lastSeq > AGE_RECORDS ||
          (head.time !== undefined && this.#newestTime - head.time > AGE_MS)
        ))
    ) {
      return;
    }
    // Oldest first; the current event is skipped (it is still being read).
    for (let p = pending.first; p !== undefined; ) {
      const next = p.newerPending;
      if (p.key === current) {
        if (pending.size <= MAX_PENDING) break;
        p = next;
        continue;
      }
      const old =
        pending.size > MAX_PENDING ||
        seq - p.lastSeq > AGE_RECORDS ||
        (p.time !== undefined && this.#newestTime - p.time > AGE_MS);
      if (!old) break;
      pending.delete(p);
      this.#emit(p, out);
      p = next;
    }
  }
}
