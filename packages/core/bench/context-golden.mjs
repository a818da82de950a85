#!/usr/bin/env node
// Golden output of the reader and the context tracker, for speed work that must not change
// a byte of what `syscan parse` prints:
//
//   node bench/context-golden.mjs FILE...
//
// Reads each FILE in 1 MiB chunks through one parser and one context tracker and prints one
// JSON line per file: records, how many carry paths/peer/local, the tracker's stats and the
// sha256 of every record as JSON.stringify writes it (key order included), one per line.
// Run it before and after a change (SYSCAN_CORE: another build of core, e.g. an esbuild
// bundle of src/ in /tmp; default ../dist/index.mjs) and compare the hashes.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const { createParser, createContextTracker } = await import(
  process.env.SYSCAN_CORE ? pathToFileURL(process.env.SYSCAN_CORE).href : '../dist/index.mjs'
);
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('context-golden: give at least one file (e.g. $BENCH_DATA/strace-f.log)');
  process.exit(2);
}

for (const file of files) {
  const parser = createParser();
  const tracker = createContextTracker();
  const hash = createHash('sha256');
  const counts = { records: 0, withPaths: 0, withPeer: 0, withLocal: 0 };
  const handle = (records) => {
    let text = '';
    for (const r of records) {
      tracker.observe(r);
      counts.records++;
      if (r.paths !== undefined) counts.withPaths++;
      if (r.peer !== undefined) counts.withPeer++;
      if (r.local !== undefined) counts.withLocal++;
      text += `${JSON.stringify(r)}\n`;
    }
    hash.update(text);
  };
  let fd;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    console.error(`context-golden: ${file}: ${error.message}`);
    process.exit(1);
  }
  const buffer = Buffer.allocUnsafe(1 << 20);
  for (;;) {
    const n = readSync(fd, buffer, 0, buffer.length, null);
    if (n === 0) break;
    handle(parser.push(buffer.subarray(0, n)));
  }
  handle(parser.end());
  closeSync(fd);
  console.log(JSON.stringify({ file, ...counts, stats: tracker.stats, sha256: hash.digest('hex') }));
}
