#!/usr/bin/env node
// The least any JavaScript reader of a log must do, and nothing more: read FILE in 32 KiB
// chunks (as the CLI does), decode UTF-8, find every line and every `=` (each audit field's
// start). No field is cut into a string and no object is built. Its time is a floor under
// any reader that extracts every field; compare it with the seed's whole run on the same
// file (issue 15: on the audit corpus this floor already takes about the seed's full time).
//
//   node bench/read-floor.mjs $BENCH_DATA/audit.log
import { closeSync, openSync, readSync } from 'node:fs';

const file = process.argv[2];
if (file === undefined) {
  console.error('read-floor: give a file (e.g. $BENCH_DATA/audit.log)');
  process.exit(2);
}
const t0 = process.hrtime.bigint();
const fd = openSync(file, 'r');
const buf = Buffer.allocUnsafe(1 << 15);
const decoder = new TextDecoder();
let lines = 0;
let fields = 0;
let carry = '';
for (;;) {
  const n = readSync(fd, buf, 0, buf.length, null);
  if (n === 0) break;
  const text = carry + decoder.decode(buf.subarray(0, n), { stream: true });
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    lines++;
    for (let eq = text.indexOf('=', start); eq !== -1 && eq < nl; eq = text.indexOf('=', eq + 1)) fields++;
    start = nl + 1;
  }
  carry = text.slice(start);
}
closeSync(fd);
console.log(JSON.stringify({ lines, fields, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
