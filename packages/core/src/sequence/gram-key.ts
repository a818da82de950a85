/**
 * N-grams of token ids packed into one number. A program's tokens are 8-bit ids (see
 * `vocabulary.ts`), so up to six of them fit exactly in a double's 53-bit integer range:
 * key = t1·256^(k-1) + … + tk, the newest token lowest. Packing keeps the hot path free of
 * strings and arrays: the next key is one multiply-add, a shorter suffix one division.
 */

/** Longest n-gram a key holds (6 × 8 bits = 48 bits, under 2^53). */
export const MAX_ORDER = 6;

/** 256^k for k = 0…MAX_ORDER. */
export const GRAM_POWERS: readonly number[] = Array.from({ length: MAX_ORDER + 1 }, (_, k) => 256 ** k);

/** The key of the last `order` tokens after `token` follows the window `key`. */
export function pushToken(key: number, token: number, order: number): number {
  return gramSuffix(key, order - 1) * 256 + token;
}

/**
 * The newest `length` tokens of `key`. Not `key % 256^length`: keys pass 2^32, and V8 does a
 * double's `%` as a call to fmod (24 ns against 6 ns in a loop of this alone; a few per cent
 * of scoring). Dividing by a power of two, flooring and multiplying back are exact for
 * integers under 2^53, so this is the same number.
 */
export function gramSuffix(key: number, length: number): number {
  const power = GRAM_POWERS[length] as number;
  return key - Math.floor(key / power) * power;
}

/** Token ids of a key, oldest first. */
export function gramTokens(key: number, length: number): number[] {
  const out = new Array<number>(length);
  let rest = key;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return out;
}
