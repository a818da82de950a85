#!/usr/bin/env node
// Benchmark driver mirroring the seed's (../shared/bench/seed-rs/src/main.rs), so that
// ../shared/bench/run.sh can time syscan and the seed pair by pair:
//
//   node bench/driver.mjs [FILE|-] [CHUNK_LINES] [--parse-only]
//
// Reads FILE in 1 MiB byte chunks (never one string per file), cuts the text into chunks
// of CHUNK_LINES lines (default 64; one chunk stands for one command's output), feeds each
// chunk to one streaming parser, and the syscall events it completes to one detector with
// the seed's default config (observe: one verdict per chunk). Prints the seed's JSON line:
// {"lines":..,"events":..,"alerts":..,"clean":..,"suppressed":..,"seconds":..}
// `events` counts syscall events as syscan reads them: one per <unfinished>/<resumed> pair
// and one per audit event, where the seed counted lines it recognised.
// SEED_MAX_ALERTS=N overrides maxAlertsPerMinute, as in the seed's driver.
// --parse-only skips the detector (to measure what detection costs over parsing).
import { closeSync, openSync, readSync } from 'node:fs';
import { createParser, SyscallAnomalyDetector } from '../dist/index.mjs';

const t0 = process.hrtime.bigint();
const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const parseOnly = process.argv.includes('--parse-only');
const path = positional[0] ?? '-';
const chunkLines = positional[1] === undefined ? 64 : Number(positional[1]);
if (!Number.isInteger(chunkLines) || chunkLines <= 0) {
  console.error(`driver: chunk size must be a positive integer, got ${positional[1]}`);
  process.exit(2);
}

const config = {};
if (process.env.SEED_MAX_ALERTS !== undefined) config.maxAlertsPerMinute = Number(process.env.SEED_MAX_ALERTS);
const detector = new SyscallAnomalyDetector(config);
const parser = createParser();
let lines = 0;
let events = 0;
let alerts = 0;
let clean = 0;
let suppressed = 0;

function judge(records) {
  const batch = [];
  for (const r of records) if (r.kind === 'syscall') batch.push(r);
  events += batch.length;
  if (parseOnly) return;
  const verdict = detector.observe(batch);
  if (verdict.kind === 'clean') clean++;
  else if (verdict.kind === 'alert') alerts++;
  else suppressed++;
}

let fd;
try {
  fd = path === '-' ? 0 : openSync(path, 'r');
} catch (error) {
  console.error(`driver: ${path}: ${error.message}`);
  process.exit(1);
}
const buffer = Buffer.allocUnsafe(1 << 20);
const decoder = new TextDecoder('utf-8');
let pending = ''; // text of the current chunk not yet complete
let inChunk = 0; // lines of the current chunk seen so far
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
  const text = pending + decoder.decode(buffer.subarray(0, n), { stream: true });
  let start = 0;
  let nl = text.indexOf('\n');
  while (nl !== -1) {
    if (++inChunk === chunkLines) {
      lines += inChunk;
      inChunk = 0;
      judge(parser.push(text.slice(start, nl + 1)));
      start = nl + 1;
    }
    nl = text.indexOf('\n', nl + 1);
  }
  pending = text.slice(start);
}
if (path !== '-') closeSync(fd);
pending += decoder.decode();
if (pending.length > 0) {
  // Rust's str::lines: a final line without '\n' still counts.
  if (!pending.endsWith('\n')) inChunk++;
  lines += inChunk;
  const records = parser.push(pending);
  for (const r of parser.end()) records.push(r);
  judge(records);
} else {
  const tail = parser.end();
  if (tail.length > 0) judge(tail);
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(
  `{"lines":${lines},"events":${events},"alerts":${alerts},"clean":${clean},"suppressed":${suppressed},"seconds":${seconds.toFixed(6)}}`,
);
