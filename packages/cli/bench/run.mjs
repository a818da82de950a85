#!/usr/bin/env node
// Whole-process benchmark: `syscan analyze --format json FILE` against the seed binary doing
// the same full work (parse + detect every chunk, alert budget lifted), on the ~200 MB
// corpora of ../shared/bench. Runs alternate A B A B after one warm-up pair; prints the
// median wall time of each, their ratio, and each side's peak RSS (GNU /usr/bin/time).
//
//   pnpm bench                       # all corpora, 5 pairs
//   BENCH_PAIRS=3 BENCH_CORPORA=audit pnpm bench
//   BENCH_SMOKE=1   the CI smoke test (tiny corpora in BENCH_DATA): 1 pair, no warm-up, syscan's
//                   side only (the seed is a Rust build CI does not make), the same table
//
// Never a test: timings on a shared machine are reported, not asserted.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const data = process.env.BENCH_DATA ?? '/tmp/syscan-bench';
const seed = process.env.SEED_BIN ?? join(data, 'target', 'release', 'seed-rs');
const bin = fileURLToPath(new URL('../dist/bin.mjs', import.meta.url));
const smoke = process.env.BENCH_SMOKE === '1';
const pairs = Number(process.env.BENCH_PAIRS ?? (smoke ? 1 : 5));
const corpora = (process.env.BENCH_CORPORA ?? 'strace-f,strace-plain,audit').split(',');

const missing = [];
if (!existsSync('/usr/bin/time')) missing.push('/usr/bin/time (apt-get install time)');
if (!existsSync(bin)) missing.push(`${bin} (run \`pnpm build\`)`);
if (smoke) console.log(`smoke run: seed side skipped (BENCH_SMOKE=1; the seed is a Rust build), 1 pair`);
else if (!existsSync(seed)) {
  missing.push(
    `${seed} (build it: CARGO_TARGET_DIR=${data}/target cargo build --release --manifest-path ../shared/bench/seed-rs/Cargo.toml)`,
  );
}
for (const c of corpora) {
  const file = join(data, `${c}.log`);
  if (!existsSync(file)) missing.push(`${file} (generate: BENCH_DATA=${data} ../shared/bench/data/gen.sh)`);
}
if (missing.length > 0) {
  console.log(`bench skipped: missing\n  ${missing.join('\n  ')}`);
  process.exit(0);
}

/**
 * Runs argv to completion with stdout discarded; resolves wall ms (spawn to exit, measured
 * here: the same small overhead for both sides) and peak RSS (GNU time's %M, the child's
 * own maxrss, so this process's memory is not counted).
 */
function timed(argv, env) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%M', ...argv], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const kb = Number(err.trim().split('\n').at(-1));
      if (!Number.isFinite(kb)) return reject(new Error(`could not run ${argv.join(' ')}: ${err}`));
      // GNU time exits with the command's status.
      resolve({ ms, status: code, rssMiB: kb / 1024 });
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
  const mb = statSync(file).size / 1e6;
  const A = { argv: [bin, 'analyze', '--format', 'json', '--no-progress', file], env: {} };
  const B = { argv: [seed, file], env: { SEED_MAX_ALERTS: '4000000000' } };
  const a = [];
  const b = [];
  const ratios = [];
  if (!smoke) {
    await timed(A.argv, A.env); // warm-up pair: page cache, JIT caches
    await timed(B.argv, B.env);
  }
  for (let i = 0; i < pairs; i++) {
    const ra = await timed(A.argv, A.env);
    const rb = smoke ? { ms: Number.NaN, rssMiB: Number.NaN } : await timed(B.argv, B.env);
    if (ra.status !== 0 && ra.status !== 1) throw new Error(`syscan exited ${ra.status} on ${file}`);
    a.push(ra);
    b.push(rb);
    ratios.push(ra.ms / rb.ms);
    process.stderr.write(
      `${corpus} pair ${i + 1}/${pairs}: syscan ${ra.ms.toFixed(0)} ms, seed ${rb.ms.toFixed(0)} ms\n`,
    );
  }
  const ma = median(a.map((r) => r.ms));
  const mbs = median(b.map((r) => r.ms));
  rows.push({
    corpus,
    MB: mb.toFixed(0),
    'syscan s': (ma / 1000).toFixed(3),
    'syscan MB/s': (mb / (ma / 1000)).toFixed(0),
    'seed s': (mbs / 1000).toFixed(3),
    'seed MB/s': (mb / (mbs / 1000)).toFixed(0),
    'ratio syscan/seed (median, range)': `${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
    'syscan peak RSS MiB': Math.max(...a.map((r) => r.rssMiB)).toFixed(0),
    'seed peak RSS MiB': Math.max(...b.map((r) => r.rssMiB)).toFixed(0),
  });
}
console.table(rows);
