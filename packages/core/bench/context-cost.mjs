#!/usr/bin/env node
// What the context tracker costs over parsing, in one process:
//
//   node bench/context-cost.mjs [FILE] [PAIRS]
//
// Reads FILE (default $BENCH_DATA/strace-f.log) in 1 MiB chunks through one streaming
// parser, PAIRS times (default 3) each way, alternating: A = parse only, B = parse and
// `tracker.observe` every record. Prints each pair's CPU times, the median B/A ratio and
// the ratio of the fastest runs.
// A timing on a shared machine is reported, never asserted. SYSCAN_CORE: another build
// of core to measure (e.g. an esbuild bundle of src/ in /tmp); default ../dist/index.mjs.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const core = await import(
  process.env.SYSCAN_CORE ? pathToFileURL(process.env.SYSCAN_CORE).href : '../dist/index.mjs'
);
const { createParser, createContextTracker } = core;
const file = process.argv[2] ?? join(process.env.BENCH_DATA ?? '/tmp/syscan-bench', 'strace-f.log');
const pairs = Number(process.argv[3] ?? 3);

function run(withContext) {
  const c0 = process.cpuUsage();
  const parser = createParser();
  const tracker = withContext ? createContextTracker() : undefined;
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let events = 0;
  let withPaths = 0;
  const handle = (records) => {
    for (const r of records) {
      if (tracker !== undefined) tracker.observe(r);
      if (r.kind === 'syscall') {
        events++;
        if (r.paths !== undefined) withPaths++;
      }
    }
  };
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    handle(parser.push(buf.subarray(0, n)));
  }
  handle(parser.end());
  closeSync(fd);
  // CPU time (user + system), not wall time: the machine is shared.
  const c = process.cpuUsage(c0);
  const seconds = (c.user + c.system) / 1e6;
  return { seconds, events, withPaths, processes: tracker?.stats.processes };
}

// One untimed pass each way first, so that both timed runs meet optimised code.
run(false);
run(true);
const ratios = [];
const as = [];
const bs = [];
for (let i = 0; i < pairs; i++) {
  const a = run(false);
  const b = run(true);
  as.push(a.seconds);
  bs.push(b.seconds);
  ratios.push(b.seconds / a.seconds);
  console.log(
    `pair ${i + 1}: parse ${a.seconds.toFixed(2)} s, parse+context ${b.seconds.toFixed(2)} s ` +
      `(${b.events} events, ${b.withPaths} with paths, ${b.processes} processes tracked)`,
  );
}
ratios.sort((x, y) => x - y);
console.log(
  `median of pair ratios (parse+context)/parse: ${ratios[Math.floor(ratios.length / 2)].toFixed(3)}`,
);
// Other work on the machine only ever adds time: the fastest run of each kind is the cleanest.
console.log(`fastest/fastest: ${(Math.min(...bs) / Math.min(...as)).toFixed(3)}`);
