import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MIX_FINAL, MixProfiles } from '../src/sequence/mix.js';

/**
 * The nearest normal profile as one plain pass finds it (the search before pivots): the first
 * profile of the highest cosine of √counts, and the first of the highest set cosine.
 */
function plainNearest(processes: Uint8Array[], counts: Uint32Array, moreDistinct: number) {
  const seen = new Set<string>();
  const profiles: Array<Map<number, number>> = [];
  for (const tokens of processes) {
    const c = new Map<number, number>();
    for (const t of tokens) c.set(t, (c.get(t) ?? 0) + 1);
    const key = [...c].sort((a, b) => a[0] - b[0]).join(';');
    if (seen.has(key)) continue;
    seen.add(key);
    profiles.push(c);
  }
  let calls = 0;
  let distinct = moreDistinct;
  for (const n of counts) {
    calls += n;
    if (n > 0) distinct++;
  }
  let best = -1;
  let exemplar = -1;
  let bestSet = -1;
  let setExemplar = -1;
  profiles.forEach((p, e) => {
    let total = 0;
    for (const n of p.values()) total += n;
    let dot = 0;
    let common = 0;
    for (const [t, n] of p) {
      dot += Math.sqrt(counts[t] as number) * Math.fround(Math.sqrt(n) / Math.sqrt(total));
      if ((counts[t] as number) > 0) common++;
    }
    if (dot > best) [best, exemplar] = [dot, e];
    const set = (common * common) / p.size;
    if (set > bestSet) [bestSet, setExemplar] = [set, e];
  });
  return {
    profiles: profiles.length,
    exemplar,
    setExemplar,
    distance: 1 - best / Math.sqrt(calls),
    setDistance: 1 - Math.sqrt(bestSet / distinct),
  };
}

/** Processes of a program: variations on a few kinds of run, so that many are near one another. */
const programRuns = fc
  .tuple(
    fc.array(fc.array(fc.integer({ min: 2, max: 40 }), { minLength: 3, maxLength: 12 }), {
      minLength: 1,
      maxLength: 4,
    }),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 2, max: 255 }), { maxLength: 3 }),
      ),
      {
        minLength: 30,
        maxLength: 120,
      },
    ),
  )
  .map(([kinds, variants]) =>
    variants.map(([kind, repeats, extra]) => {
      const base = kinds[kind % kinds.length] as number[];
      return Uint8Array.from([...Array.from({ length: repeats }, () => base).flat(), ...extra]);
    }),
  );

describe('sequence model: the search for the nearest normal mix', () => {
  it('finds what one plain pass over every profile finds, with pivots past 32 profiles', () => {
    let searchedWithPivots = 0;
    fc.assert(
      fc.property(
        programRuns,
        fc.nat(),
        fc.array(fc.integer({ min: 2, max: 255 }), { maxLength: 60 }),
        fc.nat({ max: 2 }),
        (runs, pick, noise, moreDistinct) => {
          const profiles = MixProfiles.fromProcesses(runs);
          // Half the time a learned run itself (distance 0 to a profile), else one with calls added.
          const query = runs[pick % runs.length] as Uint8Array;
          const tokens = pick % 2 === 0 ? query : Uint8Array.from([...query, ...noise]);
          const counts = new Uint32Array(256);
          for (const t of tokens) counts[t] = (counts[t] as number) + 1;
          const got = profiles.nearest(MIX_FINAL, counts, tokens.length, moreDistinct);
          const want = plainNearest(runs, counts, moreDistinct);
          if (want.profiles >= 32) searchedWithPivots++;
          expect(got.exemplar).toBe(want.exemplar);
          expect(got.setExemplar).toBe(want.setExemplar);
          expect(got.distance).toBeCloseTo(Math.min(1, Math.max(0, want.distance)), 12);
          expect(got.setDistance).toBeCloseTo(Math.min(1, Math.max(0, want.setDistance)), 12);
        },
      ),
      { numRuns: 300 },
    );
    // Most cases must be ones the pivots search (32 profiles or more), or this tests little.
    expect(searchedWithPivots).toBeGreaterThan(200);
  });
});

describe('sequence model: the nearest-mix search on a stored model with a profile of no calls', () => {
  it('still finds a real profile at finite distances (the empty one has no angle to anything)', () => {
    const runs = Array.from({ length: 40 }, (_, i) => Uint8Array.from([2, 3, 4, ...Array(i + 1).fill(5), 6]));
    const stored = MixProfiles.fromProcesses(runs);
    // One more exemplar, first, one call long, whose counts list is empty: decode takes it.
    const bytes = Uint8Array.from([1, 0, ...stored.encode()]);
    const profiles = MixProfiles.decode(bytes, stored.count + 1);
    for (const run of [runs[7] as Uint8Array, Uint8Array.from([2, 9, 9, 9])]) {
      const counts = new Uint32Array(256);
      for (const t of run) counts[t] = (counts[t] as number) + 1;
      const got = { ...profiles.nearest(MIX_FINAL, counts, run.length) };
      const want = stored.nearest(MIX_FINAL, counts, run.length);
      // The same profiles, one further on.
      expect(got).toEqual({ ...want, exemplar: want.exemplar + 1, setExemplar: want.setExemplar + 1 });
      expect(Number.isFinite(got.distance) && Number.isFinite(got.setDistance)).toBe(true);
    }
  });
});
