#!/usr/bin/env node
// What detection costs over parsing, measured in one process on the same input:
//
//   node bench/detect.bench.mjs [FILE...] [--lines N] [--rounds R] [--chunk C]
//
// For each FILE (default: $BENCH_DATA/{strace-plain,strace-f,audit}.log) the first N lines
// (default 400 000) are cut into C-line chunks (default 64, as the seed's driver). Then, in
// alternating rounds: (a) parse every chunk with one streaming parser; (b) observe the
// chunks' pre-parsed events with one detector (one verdict per chunk). Printed: median ms of
// each, ns per event, and detect/parse. Configs: the seed's default (budget spent after 30
// alerting chunks: mostly the cooldown path), no budget (every chunk builds its alerts), and a
// baseline learned from the input (the clean path). Uses ../dist (run tsup first).
// Timings on a shared machine are reported, never asserted.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { createParser, learnBaseline, SyscallAnomalyDetector } from '../dist/index.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  if (i === -1) return dflt;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`detect.bench: ${name} needs a positive integer`);
    process.exit(2);
  }
  return v;
};
const maxLines = opt('--lines', 400_000);
const rounds = opt('--rounds', 7);
const chunkLines = opt('--chunk', 64);
const data = process.env.BENCH_DATA ?? '/tmp/syscan-bench';
const files =
  args.length > 0 ? args : ['strace-plain', 'strace-f', 'audit'].map((n) => join(data, `${n}.log`));

/** The first `maxLines` lines of `path` as `chunkLines`-line strings (read in 1 MiB pieces). */
function readChunks(path) {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  const decoder = new TextDecoder();
  const chunks = [];
  let text = '';
  let lines = 0;
  outer: for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    text += decoder.decode(buf.subarray(0, n), { stream: true });
    let start = 0;
    let count = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', nl + 1)) {
      if (++count === chunkLines) {
        chunks.push(text.slice(start, nl + 1));
        start = nl + 1;
        count = 0;
        lines += chunkLines;
        if (lines >= maxLines) break outer;
      }
    }
    text = text.slice(start);
  }
  closeSync(fd);
  return chunks;
}

function parseAll(chunks) {
  const parser = createParser();
  const batches = [];
  let events = 0;
  for (const c of chunks) {
    const batch = [];
    for (const r of parser.push(c)) if (r.kind === 'syscall') batch.push(r);
    events += batch.length;
    batches.push(batch);
  }
  for (const r of parser.end()) if (r.kind === 'syscall') batches.at(-1)?.push(r);
  return { batches, events };
}

function detectAll(batches, config) {
  const d = new SyscallAnomalyDetector(config);
  const kinds = { clean: 0, alert: 0, suppressed: 0 };
  for (const b of batches) kinds[d.observe(b).kind]++;
  return kinds;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

for (const file of files) {
  const chunks = readChunks(file);
  const { batches, events } = parseAll(chunks);
  const baseline = learnBaseline(batches.flat());
  const configs = {
    'seed default': {},
    'no budget': { maxAlertsPerMinute: 0 },
    'learned baseline': baseline,
  };
  const parseTimes = [];
  const detectTimes = Object.fromEntries(Object.keys(configs).map((k) => [k, []]));
  const verdicts = {};
  for (let r = 0; r < rounds; r++) {
    let t0 = process.hrtime.bigint();
    parseAll(chunks);
    parseTimes.push(ms(t0));
    for (const [name, config] of Object.entries(configs)) {
      t0 = process.hrtime.bigint();
      verdicts[name] = detectAll(batches, config);
      detectTimes[name].push(ms(t0));
    }
  }
  const p = median(parseTimes);
  console.log(`${file}: ${chunks.length} chunks of ${chunkLines} lines, ${events} events`);
  console.log(`  parse            ${p.toFixed(1)} ms  ${((p * 1e6) / events).toFixed(0)} ns/event`);
  for (const name of Object.keys(configs)) {
    const d = median(detectTimes[name]);
    const v = verdicts[name];
    console.log(
      `  detect ${name.padEnd(17)} ${d.toFixed(1)} ms  ${((d * 1e6) / events).toFixed(0)} ns/event  ` +
        `+${((d / p) * 100).toFixed(1)}% over parse  (clean ${v.clean}, alert ${v.alert}, suppressed ${v.suppressed})`,
    );
  }
}
