/**
 * GC settings for the CLI process, applied at start (heap flags cannot be passed on a
 * `node bin.mjs` or npm-shim command line). With V8's defaults a long `syscan analyze` holds
 * far more heap than it uses: the old generation may grow to ~4× what survives a full GC
 * before the next one, and the young generation grows to two 16 MiB semi-spaces, which the
 * parser's short-lived records keep touched. On a 1 GB audit log with rules and a learned
 * sequence model that was 270–320 MiB of RSS for ~55 MiB of live heap (issue 15 asks < 200).
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** Old generation: the next full GC when it has grown by this share over what the last one kept. */
const OLD_GROWTH_PERCENT = 30;
/** Young generation: both semi-spaces together stop growing at this size (V8's own cap: 32 MiB). */
const YOUNG_BYTES = 8 * 1024 * 1024;

export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${OLD_GROWTH_PERCENT}`);
  // The semi-space cap is fixed when the heap is made, but the growth factor is read at each
  // growth: let the young generation grow from its start (1 MiB) to the cap, then stop it.
  // Looked at once per event-loop turn, not on a timer: a turn reads one 32 KiB chunk, far
  // less than one growth step needs, so the cap cannot be overshot by a late look.
  const look = (): void => {
    const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    if (young === undefined || young.space_size >= YOUNG_BYTES) {
      setFlagsFromString('--semi-space-growth-factor=1');
      return;
    }
    setImmediate(look).unref();
  };
  look();
}
