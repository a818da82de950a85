import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pushToken } from '../src/sequence/gram-key.js';
import { addCounts, KneserNeyModel } from '../src/sequence/kneser-ney.js';

const ORDER = 6;
const VOCABULARY = 12;
/** Processes of tokens 1 … VOCABULARY − 1 (1 standing for calls never learned, as UNSEEN does). */
const processes = (min: number) =>
  fc.array(fc.uint8Array({ min: 2, max: VOCABULARY - 1, minLength: 1, maxLength: 60 }), {
    minLength: min,
    maxLength: 12,
  });

describe('sequence model: the n-gram cost and expectations with the lookups a call can skip', () => {
  it('is the cost of looking up every order, call for call, when each looks one past the last seen suffix', () => {
    fc.assert(
      fc.property(
        processes(1),
        processes(1),
        fc.uint8Array({ min: 1, max: 3, maxLength: 8 }),
        (learned, scored, noise) => {
          const counts = new Map<number, number>();
          for (const tokens of learned) addCounts(counts, tokens, ORDER, 1);
          const model = new KneserNeyModel(counts, ORDER, VOCABULARY);
          // Held-out runs, some with calls spliced in that break their n-grams.
          for (const run of scored) {
            const tokens = Uint8Array.from([
              ...run.slice(0, run.length >> 1),
              ...noise,
              ...run.slice(run.length >> 1),
            ]);
            let key = 0;
            let seenOrder = ORDER;
            for (const token of tokens) {
              const before = key;
              key = pushToken(key, token, ORDER);
              const full = model.cost(key);
              const fullSeen = model.lastSeen;
              const skipping = model.cost(key, seenOrder + 1);
              seenOrder = model.lastOrder;
              expect(skipping).toBe(full);
              expect(model.lastSeen).toBe(fullSeen);
              // What it expected after the calls before: every token by the full lookup.
              const context = key - (key % 256);
              const want = Array.from({ length: VOCABULARY - 2 }, (_, i) => ({
                token: i + 2,
                probability: Math.exp(-model.cost(context + i + 2)),
              })).sort((a, b) => b.probability - a.probability);
              expect(model.expected(before, VOCABULARY, 3)).toEqual(want.slice(0, 3));
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
