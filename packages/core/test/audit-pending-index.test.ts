import { describe, expect, it } from 'vitest';
import { PendingEvent } from '../src/parse/audit/event.js';
import { PendingIndex } from '../src/parse/audit/pending-index.js';
import { rng } from './helpers/rng.js';

const event = (serial: number, node?: string): PendingEvent =>
  new PendingEvent(node === undefined ? serial : `${node}:${serial}`, serial, 0, '', 0, false);

/** Keys oldest first, by walking the index's arrival list. */
function order(index: PendingIndex): Array<number | string> {
  const out: Array<number | string> = [];
  for (let p = index.first; p !== undefined; p = p.newerPending) out.push(p.key);
  return out;
}

describe('audit pending index', () => {
  it('finds, deletes and orders events as a Map in insertion order would, through collisions and wrap-around', () => {
    const next = rng(7);
    const index = new PendingIndex(257);
    const map = new Map<number | string, PendingEvent>();
    for (let step = 0; step < 50_000; step++) {
      // Serials from a narrow range (many collisions), some sharing a serial across hosts.
      const serial = Math.floor(next() * 600) * 1024;
      const key = next() < 0.2 ? `h${Math.floor(next() * 3)}:${serial}` : serial;
      const found = index.get(key, serial);
      expect(found).toBe(map.get(key));
      if (found !== undefined && next() < 0.7) {
        index.delete(found);
        map.delete(key);
      } else if (found === undefined && map.size < 257) {
        const p = event(serial, typeof key === 'string' ? key.slice(0, key.indexOf(':')) : undefined);
        index.add(p);
        map.set(key, p);
      }
      expect(index.size).toBe(map.size);
    }
    expect(order(index)).toEqual([...map.keys()]);
    for (const [key, p] of map) expect(index.get(key, p.serial as number)).toBe(p);
    index.clear();
    expect(index.size).toBe(0);
    expect(index.first).toBeUndefined();
    for (const [key, p] of map) expect(index.get(key, p.serial as number)).toBeUndefined();
  });
});
