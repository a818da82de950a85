/**
 * Execution slots. A slot is taken when a request is admitted and given back only when the
 * command's processes are gone (the run's promise settles after the last one exits), not
 * when the client hangs up: otherwise clients that disconnect could keep any number of
 * commands running past `--max-concurrent`. A client that disconnects gets its command killed.
 */

export interface Slot {
  /** Aborted when the run must stop: the client went away, or the server is draining past its grace. */
  readonly signal: AbortSignal;
  /** The run is started: the slot is held until `run` settles. */
  hold(run: Promise<unknown>): void;
  /** Gives the slot back when no run was started (the request was refused after admission). */
  release(): void;
  /** Stops the run (if any): its processes are killed, the slot frees when they are gone. */
  abort(reason: string): void;
}

export type Refusal = 'busy' | 'draining';

export class Admission {
  readonly max: number;
  readonly #slots = new Set<SlotImpl>();
  #draining = false;

  constructor(max: number) {
    this.max = max;
  }

  /** Slots in use: admitted requests and runs whose processes are not all gone yet. */
  get inUse(): number {
    return this.#slots.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  admit(): Slot | Refusal {
    if (this.#draining) return 'draining';
    if (this.#slots.size >= this.max) return 'busy';
    const slot = new SlotImpl(() => this.#slots.delete(slot));
    this.#slots.add(slot);
    return slot;
  }

  /**
   * Stops admitting, lets running commands finish for `graceMs`, then aborts the rest, and
   * resolves once every slot is free (every command's processes are gone).
   */
  async drain(graceMs: number): Promise<void> {
    this.#draining = true;
    if (this.#slots.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const all = (): Promise<unknown> => Promise.all([...this.#slots].map((s) => s.done));
    await Promise.race([all(), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    for (const s of this.#slots) s.abort('shutting down');
    await all();
  }
}

class SlotImpl implements Slot {
  readonly #controller = new AbortController();
  readonly #free: () => void;
  #freed = false;
  #resolveDone!: () => void;
  /** Settles when the slot is free. */
  readonly done = new Promise<void>((r) => (this.#resolveDone = r));
  #held = false;

  constructor(free: () => void) {
    this.#free = free;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  hold(run: Promise<unknown>): void {
    this.#held = true;
    run.then(
      () => this.#release(),
      () => this.#release(),
    );
  }

  release(): void {
    if (!this.#held) this.#release();
  }

  abort(reason: string): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(new Error(reason));
    this.release();
  }

  #release(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#free();
    this.#resolveDone();
  }
}
