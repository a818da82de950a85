import { describe, expect, it } from 'vitest';
import { Admission } from '../src/server/admission.js';

describe('Admission', () => {
  it('holds a slot until the run settles, not until the response is done', async () => {
    const admission = new Admission(1);
    const slot = admission.admit();
    if (typeof slot === 'string') throw new Error(slot);
    let finish!: () => void;
    slot.hold(new Promise<void>((r) => (finish = r)));
    // The client hung up and the response is gone: the command still runs, the slot stays taken.
    slot.release();
    expect(admission.inUse).toBe(1);
    expect(admission.admit()).toBe('busy');
    finish();
    await new Promise((r) => setImmediate(r));
    expect(admission.inUse).toBe(0);
  });

  it('aborts the run of a slot, and frees a slot that never ran', () => {
    const admission = new Admission(2);
    const a = admission.admit();
    const b = admission.admit();
    if (typeof a === 'string' || typeof b === 'string') throw new Error('refused');
    a.abort('client disconnected');
    expect(a.signal.aborted).toBe(true);
    b.release();
    expect(admission.inUse).toBe(0);
  });

  it('drains: refuses new runs, aborts the running ones after the grace, resolves when all are gone', async () => {
    const admission = new Admission(2);
    const slot = admission.admit();
    if (typeof slot === 'string') throw new Error(slot);
    slot.hold(new Promise<void>((resolve) => slot.signal.addEventListener('abort', () => resolve())));
    await admission.drain(10);
    expect(slot.signal.aborted).toBe(true);
    expect(admission.inUse).toBe(0);
    expect(admission.admit()).toBe('draining');
  });
});
