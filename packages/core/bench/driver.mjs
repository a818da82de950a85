#!/usr/bin/env node
// Benchmark driver mirroring the seed's (../shared/bench/seed-rs/src/main.rs), so that
// ../shared/bench/run.sh can time syscan and the seed pair by pair:
//
//   node bench/driver.mjs [FILE|-] [CHUNK_LINES] [--parse-only] [--context] [--fixed-clock]
//
// Reads FILE in 1 MiB byte chunks (never one string per file) into one streaming parser,
// groups the syscall events by CHUNK_LINES-line chunk of the input (default 64; one chunk
// stands for one command's output) and feeds each group to one detector with the seed's
// default config (observe: one verdict per chunk). Prints the seed's JSON line:
// {"lines":..,"events":..,"alerts":..,"clean":..,"suppressed":..,"seconds":..}
// `events` counts syscall events as syscan reads them: one per <unfinished>/<resumed> pair
// and one per audit event, where the seed counted lines it recognised.
// SEED_MAX_ALERTS=N overrides maxAlertsPerMinute, as in the seed's driver.
// --parse-only skips the detector (to measure what detection costs over parsing);
// --context also runs every record through the context tracker (as `syscan analyze` does).
import { closeSync, openSync, readSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

// SYSCAN_CORE: another build of core to measure (e.g. an esbuild bundle of src/ in /tmp).
const { createParser, createContextTracker, SyscallAnomalyDetector } = await import(
  process.env.SYSCAN_CORE ? pathToFileURL(process.env.SYSCAN_CORE).href : '../dist/index.mjs'
);
const { createFastUtf8Decoder } = await import('../dist/node.mjs');

const t0 = process.hrtime.bigint();
const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const parseOnly = process.argv.includes('--parse-only');
const tracker = process.argv.includes('--context') ? createContextTracker() : undefined;
const path = positional[0] ?? '-';
const chunkLines = positional[1] === undefined ? 64 : Number(positional[1]);
if (!Number.isInteger(chunkLines) || chunkLines <= 0) {
  console.error(`driver: chunk size must be a positive integer, got ${positional[1]}`);
  process.exit(2);
}

const config = {};
// --fixed-clock: the detector's "now" never moves, so two runs of different length (callgrind
// is 50× slower) do the same detector work and their instruction counts compare.
if (process.argv.includes('--fixed-clock')) config.now = () => 1_700_000_000_000;
if (process.env.SEED_MAX_ALERTS !== undefined)
  config.maxAlertsPerMinute = Number(process.env.SEED_MAX_ALERTS);
const detector = new SyscallAnomalyDetector(config);
let lines = 0;
let events = 0;
let alerts = 0;
let clean = 0;
let suppressed = 0;

// The seed judged each CHUNK_LINES-line slice of the text. Records carry their 1-based line,
// so the same slices are formed from the parser's own output instead of splitting the text
// twice: an event belongs to the chunk of its (first) line; chunks without events count as
// clean, as the seed's analyze() of an event-less chunk does.
let batch = [];
let batchChunk = 0; // index of the chunk `batch` belongs to
let judged = 0; // chunks judged so far (batchChunk excluded)

function judgeBatch() {
  events += batch.length;
  if (!parseOnly) {
    const verdict = detector.observe(batch);
    if (verdict.kind === 'clean') clean++;
    else if (verdict.kind === 'alert') alerts++;
    else suppressed++;
  }
  batch = [];
  judged = batchChunk + 1;
}

function take(records) {
  for (const r of records) {
    if (tracker !== undefined) tracker.observe(r);
    if (r.kind !== 'syscall') continue;
    const chunk = Math.floor(((r.line ?? 1) - 1) / chunkLines);
    // Audit events complete a few records late; one that belongs to an earlier chunk joins
    // the open batch rather than re-opening a chunk already judged.
    if (chunk > batchChunk) {
      if (batch.length > 0) judgeBatch();
      if (!parseOnly) clean += chunk - judged;
      judged = chunk;
      batchChunk = chunk;
    }
    batch.push(r);
  }
}

let fd;
try {
  fd = path === '-' ? 0 : openSync(path, 'r');
} catch (error) {
  console.error(`driver: ${path}: ${error.message}`);
  process.exit(1);
}
const parser = createParser({ createDecoder: createFastUtf8Decoder });
const buffer = Buffer.allocUnsafe(1 << 20);
for (;;) {
  let n;
  try {
    n = readSync(fd, buffer, 0, buffer.length, null);
  } catch (error) {
    if (error.code === 'EAGAIN') continue;
    if (error.code === 'EOF') break;
    throw error;
  }
  if (n === 0) break;
  take(parser.push(buffer.subarray(0, n)));
}
if (path !== '-') closeSync(fd);
take(parser.end());
lines = parser.stats.lines;
if (batch.length > 0) judgeBatch();
if (!parseOnly) clean += Math.ceil(lines / chunkLines) - judged;
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(
  `{"lines":${lines},"events":${events},"alerts":${alerts},"clean":${clean},"suppressed":${suppressed},"seconds":${seconds.toFixed(6)}}`,
);
