#!/usr/bin/env node
// Peak memory of `syscan analyze` on ~1 GB inputs with the shipped rules and a learned
// sequence model on (issue 15: memory flat, under 200 MiB). Each corpus of ../shared/bench
// is learned once (`syscan learn`, which includes the sequence model) and analyzed as
// BENCH_COPIES back-to-back copies of itself (5: ~1 GB; audit serials and strace pids repeat,
// as in a log that wrapped), from a file written once into BENCH_DATA. Prints the median and
// range of the peak RSS (GNU time's %M) over BENCH_RUNS runs, and the CPU seconds (user + system)
// each took, since the CLI's GC settings trade a little CPU for memory.
//
//   node bench/memory.mjs                              # all corpora, 3 runs each
//   BENCH_RUNS=1 BENCH_CORPORA=audit node bench/memory.mjs
//   BENCH_SMOKE=1   the CI smoke test (tiny corpora in BENCH_DATA): 1 run, 2 copies, the same table
//
// Never a test: memory on a shared machine is reported, not asserted.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

const data = process.env.BENCH_DATA ?? '/tmp/syscan-bench';
const bin = fileURLToPath(new URL('../dist/bin.mjs', import.meta.url));
const smoke = process.env.BENCH_SMOKE === '1';
const runs = Number(process.env.BENCH_RUNS ?? (smoke ? 1 : 3));
const copies = Number(process.env.BENCH_COPIES ?? (smoke ? 2 : 5));
const corpora = (process.env.BENCH_CORPORA ?? 'strace-f,strace-plain,audit').split(',');
const TARGET_MIB = 200;

const missing = [];
if (!existsSync('/usr/bin/time')) missing.push('/usr/bin/time (apt-get install time)');
if (!existsSync(bin)) missing.push(`${bin} (run \`pnpm build\`)`);
for (const c of corpora) {
  const file = join(data, `${c}.log`);
  if (!existsSync(file)) missing.push(`${file} (generate: BENCH_DATA=${data} ../shared/bench/data/gen.sh)`);
}
if (missing.length > 0) {
  console.log(`bench skipped: missing\n  ${missing.join('\n  ')}`);
  process.exit(0);
}
if (smoke) console.log(`smoke run: ${runs} run, ${copies} copies of each tiny corpus`);

/** `copies` copies of `file` back to back, written once (kept while its size matches). */
async function repeated(file, corpus) {
  const out = join(data, `memory-${corpus}-x${copies}.log`);
  const size = statSync(file).size * copies;
  if (existsSync(out) && statSync(out).size === size) return out;
  const sink = createWriteStream(out);
  for (let i = 0; i < copies; i++) await pipeline(createReadStream(file), sink, { end: i === copies - 1 });
  return out;
}

/** Peak RSS in MiB and CPU seconds of `node bin argv…` (the child's own); rejects unless it exits 0 or 1. */
function peakRss(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%M %U %S', process.execPath, bin, ...argv], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const [kb, user, system] = (err.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
      if ((code !== 0 && code !== 1) || !Number.isFinite(kb) || !Number.isFinite(user + system))
        return reject(new Error(`syscan ${argv.join(' ')} exited ${code}: ${err.slice(-500)}`));
      resolve({ mib: kb / 1024, cpu: user + system });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const rows = [];
for (const corpus of corpora) {
  const file = join(data, `${corpus}.log`);
  const baseline = join(data, `memory-${corpus}.baseline.json`);
  const learned = spawnSync(process.execPath, [bin, 'learn', '--no-progress', file, '-o', baseline], {
    encoding: 'utf8',
  });
  if (learned.status !== 0)
    throw new Error(`syscan learn ${file} exited ${learned.status}: ${learned.stderr}`);
  const input = await repeated(file, corpus);
  const rss = [];
  const cpu = [];
  for (let i = 0; i < runs; i++) {
    const r = await peakRss(['analyze', '--no-progress', '--baseline', baseline, input]);
    rss.push(r.mib);
    cpu.push(r.cpu);
    process.stderr.write(
      `${corpus} run ${i + 1}/${runs}: peak RSS ${r.mib.toFixed(0)} MiB, ${r.cpu.toFixed(1)} s CPU\n`,
    );
  }
  const m = median(rss);
  rows.push({
    corpus,
    'input MB': (statSync(input).size / 1e6).toFixed(0),
    'peak RSS MiB (median, range)': `${m.toFixed(0)} (${Math.min(...rss).toFixed(0)}–${Math.max(...rss).toFixed(0)})`,
    [`under ${TARGET_MIB} MiB`]: m < TARGET_MIB ? 'yes' : 'no',
    'CPU s (median, range)': `${median(cpu).toFixed(1)} (${Math.min(...cpu).toFixed(1)}–${Math.max(...cpu).toFixed(1)})`,
  });
}
console.table(rows);
