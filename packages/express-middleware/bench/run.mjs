// Throughput and latency of a guarded vs an unguarded Express tool endpoint (16 KB trace
// responses), with autocannon's programmatic API against a server in a child process.
// Rounds alternate A B B A so drift on a shared machine hits both sides alike. Latency
// percentiles are computed from every response time (autocannon's histogram rounds to ms).
//
// Two phases: saturated (--connections, throughput ratio) and a fixed offered load over the
// same connections (--rate req/s in all: the latency the guard adds, without queueing effects).
// Each also reports the server's CPU time per request, and ratios per alternating pair.
//
//   node bench/run.mjs [--duration 10] [--rounds 2] [--connections 10] [--rate 500]
// Needs `pnpm build` of core and this package (the turbo `bench` task builds first).
// BENCH_SMOKE=1 (the CI smoke test): the autocannon runs are skipped (they take seconds each);
// both sides are started and probed, and their table printed.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '10' },
    rate: { type: 'string', default: '200' },
  },
});
const duration = Number(values.duration);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const rate = Number(values.rate);
for (const [k, v] of Object.entries({ duration, rounds, connections, rate })) {
  if (!Number.isInteger(v) || v < 1 || v > (k === 'rate' ? 100_000 : 600)) {
    console.error(`bench: --${k} must be a positive integer (at most ${k === 'rate' ? 100_000 : 600})`);
    process.exit(2);
  }
}

const child = spawn(process.execPath, [new URL('./server.mjs', import.meta.url).pathname], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const firstLine = await new Promise((resolve, reject) => {
  child.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
  createInterface({ input: child.stdout }).once('line', resolve);
});
const ports = JSON.parse(firstLine);
const url = (side) => `http://127.0.0.1:${ports[side]}/tools/shell`;

// The guarded side must be on the clean path, or the comparison means nothing.
const probe = await fetch(url('guarded'));
const verdict = probe.headers.get('syscan-verdict');
await probe.arrayBuffer();
if (probe.status !== 200 || verdict !== 'clean') {
  console.error(`bench: guarded endpoint answered ${probe.status} verdict=${verdict}, expected 200 clean`);
  child.stdin.end();
  process.exit(1);
}
if (process.env.BENCH_SMOKE === '1') {
  console.log('smoke run: autocannon runs skipped (BENCH_SMOKE=1); both sides probed once');
  const rows = [];
  for (const side of ['plain', 'guarded']) {
    const res = await fetch(url(side));
    rows.push({
      side,
      status: res.status,
      verdict: res.headers.get('syscan-verdict'),
      bytes: (await res.arrayBuffer()).byteLength,
    });
  }
  console.table(rows);
  child.stdin.end();
  process.exit(0);
}

/**
 * CPU time (user + system, µs) the server process has used so far, from /proc (Linux); null
 * elsewhere. Runs are sequential and both sides live in that one process, so the difference
 * over a run is that side's: CPU per request is far steadier than req/s on a shared machine.
 */
const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux
function serverCpuUs() {
  try {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return null;
  }
}

/** Cap on recorded latencies per run (memory bound; ~16 MB of doubles). */
const MAX_SAMPLES = 2_000_000;

/** One autocannon run; `overallRate` fixes the offered load (latency without queueing), else saturate. */
async function run(side, seconds, overallRate) {
  const times = [];
  const instance = autocannon({
    url: url(side),
    connections,
    duration: seconds,
    ...(overallRate ? { overallRate } : {}),
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status === 200 && times.length < MAX_SAMPLES) times.push(ms);
  });
  const cpu0 = serverCpuUs();
  const result = await instance;
  const cpu1 = serverCpuUs();
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? Number.NaN;
  return {
    side,
    rps: result.requests.total / seconds,
    cpuPerReq:
      cpu0 === null || cpu1 === null ? Number.NaN : (cpu1 - cpu0) / Math.max(1, result.requests.total),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    p50: q(0.5),
    p99: q(0.99),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

console.log(
  `syscanGuard bench: ${ports.traceBytes} B trace per response, ${connections} connections, ${duration} s per run, ${rounds} round(s) A B B A, node ${process.version}`,
);
const line = (res) =>
  `  ${res.side.padEnd(8)} ${res.rps.toFixed(0).padStart(7)} req/s  p50 ${res.p50.toFixed(3)} ms  p99 ${res.p99.toFixed(3)} ms  server CPU ${res.cpuPerReq.toFixed(0)} µs/req` +
  (res.non2xx || res.errors ? `  (non-2xx ${res.non2xx}, errors ${res.errors})` : '');
await run('plain', 2);
await run('guarded', 2);

async function phase(title, overallRate) {
  console.log(title);
  const results = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['plain', 'guarded'] : ['guarded', 'plain'];
    for (const side of order) {
      const res = await run(side, duration, overallRate);
      results.push(res);
      console.log(line(res));
    }
  }
  const pick = (side, k) => median(results.filter((r) => r.side === side).map((r) => r[k]));
  // Per pair (one plain and one guarded run next to each other): the ratio and its range.
  const pairs = [];
  for (let r = 0; r < rounds; r++) {
    const [a, b] = results.slice(2 * r, 2 * r + 2);
    const [p, g] = a.side === 'plain' ? [a, b] : [b, a];
    pairs.push({ rps: g.rps / p.rps, cpu: p.cpuPerReq / g.cpuPerReq, p99: g.p99 - p.p99 });
  }
  const range = (k) => {
    const xs = pairs.map((x) => x[k]);
    return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
  };
  return {
    pairs: { rps: range('rps'), cpu: range('cpu'), p99: range('p99') },
    ratio: pick('guarded', 'rps') / pick('plain', 'rps'),
    plain: pick('plain', 'rps'),
    guarded: pick('guarded', 'rps'),
    p50Added: pick('guarded', 'p50') - pick('plain', 'p50'),
    p99Added: pick('guarded', 'p99') - pick('plain', 'p99'),
  };
}

const sat = await phase('saturated (throughput):');
const fixed = await phase(`fixed load ${rate} req/s (latency):`, rate);
child.stdin.end();

console.log(
  `throughput (median): plain ${sat.plain.toFixed(0)} req/s, guarded ${sat.guarded.toFixed(0)} req/s → ratio ${sat.ratio.toFixed(3)} (goal ≥ 0.9)`,
);
const fmt = (r, d = 3) => `${r.median.toFixed(d)} (range ${r.min.toFixed(d)}–${r.max.toFixed(d)})`;
console.log(`throughput ratio per pair, median of ${rounds}: ${fmt(sat.pairs.rps)}`);
console.log(
  `server CPU per request, plain/guarded per pair (the ratio a CPU-bound server reaches): ${fmt(sat.pairs.cpu)}`,
);
console.log(`p99 added at ${rate} req/s per pair (ms): ${fmt(fixed.pairs.p99)}`);
console.log(
  `latency added at ${rate} req/s (median of runs): p50 ${fixed.p50Added.toFixed(3)} ms, p99 ${fixed.p99Added.toFixed(3)} ms (goal p99 < 1 ms)`,
);
console.log(
  `latency added when saturated: p50 ${sat.p50Added.toFixed(3)} ms, p99 ${sat.p99Added.toFixed(3)} ms`,
);
