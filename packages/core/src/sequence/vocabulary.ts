/**
 * A program's syscall names as 8-bit token ids. Ids are per program: one program rarely makes
 * more than a hundred distinct syscalls, and 8 bits per token let six of them pack into one
 * number (`gram-key.ts`).
 */

/** Padding before a process's first call: the model learns how processes start. */
export const BOS = 0;
/** A syscall the program never made while learning. */
export const UNSEEN = 1;
/** Names past the 254th distinct one share this id (said in the model as `overflowSyscalls`). */
export const OVERFLOW = 255;
const FIRST_NAME_ID = 2;

export class Vocabulary {
  /** Names by id, from id 2 (ids 0 and 1 are BOS and UNSEEN). */
  readonly names: string[];
  readonly #ids = new Map<string, number>();
  /** Distinct names that did not fit and were learned as OVERFLOW. */
  overflowNames = 0;

  /** `overflowNames`: as stored, so that a loaded vocabulary has the learned one's size. */
  constructor(names: readonly string[] = [], overflowNames = 0) {
    this.names = [];
    for (const name of names) this.add(name);
    this.overflowNames = overflowNames;
  }

  /** The bound of token ids in use (BOS and UNSEEN included; 256 once OVERFLOW is). */
  get size(): number {
    return this.overflowNames > 0 ? OVERFLOW + 1 : this.names.length + FIRST_NAME_ID;
  }

  /** The id of `name`, adding it while there is room (learning). */
  add(name: string): number {
    const known = this.#ids.get(name);
    if (known !== undefined) return known;
    if (this.names.length + FIRST_NAME_ID >= OVERFLOW) {
      this.overflowNames++;
      this.#ids.set(name, OVERFLOW);
      return OVERFLOW;
    }
    const id = this.names.length + FIRST_NAME_ID;
    this.names.push(name);
    this.#ids.set(name, id);
    return id;
  }

  /** The id of `name`, UNSEEN when the program never made it (scoring). */
  id(name: string): number {
    return this.#ids.get(name) ?? UNSEEN;
  }

  /** The name of an id, for explanations. */
  name(id: number): string {
    if (id === BOS) return '<start>';
    if (id === UNSEEN) return '<unseen>';
    if (id === OVERFLOW) return '<other>';
    return this.names[id - FIRST_NAME_ID] ?? '<unseen>';
  }
}
