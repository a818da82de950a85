// Throughput of the guard with a RedisStore as a ratio to the in-memory store (core's
// MemoryDetectorStore, the same code path minus the network), and to the guard's default.
// 16 KB trace responses, autocannon against a server in a child process, a redis-server of
// its own on a free port (no persistence). Rounds rotate the order so drift hits all sides.
//
//   node bench/run.mjs [--duration 5] [--rounds 2] [--connections 10]
// Needs `pnpm build` of core, express-middleware and this package, and redis-server on PATH.
// BENCH_SMOKE=1 (the CI smoke test): the autocannon runs are skipped (they take seconds each);
// redis-server and the three sides are started and probed, and their table printed.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '10' },
  },
});
const duration = Number(values.duration);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
for (const [k, v] of Object.entries({ duration, rounds, connections })) {
  if (!Number.isInteger(v) || v < 1 || v > 600) {
    console.error(`bench: --${k} must be an integer from 1 to 600`);
    process.exit(2);
  }
}
if (spawnSync('redis-server', ['--version']).status !== 0) {
  // Skipped, not failed: `pnpm bench` runs every package's bench.
  console.error('bench: redis-server not found (apt-get install -y redis-server): Redis store bench skipped');
  process.exit(0);
}

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const redis = spawn(
  'redis-server',
  [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--loglevel',
    'warning',
  ],
  { stdio: 'ignore' },
);
for (let i = 0; ; i++) {
  const up = await new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s.end() && true));
    s.once('error', () => resolve(false));
  });
  if (up) break;
  if (i > 200) {
    console.error('bench: redis-server did not start');
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 50));
}

const child = spawn(
  process.execPath,
  [new URL('./server.mjs', import.meta.url).pathname, `redis://127.0.0.1:${port}`],
  {
    stdio: ['pipe', 'pipe', 'inherit'],
  },
);
const stopAll = () => {
  child.stdin.end();
  redis.kill('SIGTERM');
};
const ports = JSON.parse(
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  }),
);
const SIDES = ['default', 'memory', 'redis'];
const url = (side) => `http://127.0.0.1:${ports[side]}/tools/shell`;

const smokeRows = [];
for (const side of SIDES) {
  const probe = await fetch(url(side));
  const verdict = probe.headers.get('syscan-verdict');
  await probe.arrayBuffer();
  if (probe.status !== 200 || verdict !== 'clean') {
    console.error(`bench: ${side} answered ${probe.status} verdict=${verdict}, expected 200 clean`);
    stopAll();
    process.exit(1);
  }
  if (process.env.BENCH_SMOKE === '1') smokeRows.push({ side, status: probe.status, verdict });
}
if (process.env.BENCH_SMOKE === '1') {
  console.log('smoke run: autocannon runs skipped (BENCH_SMOKE=1); every side probed once');
  console.table(smokeRows);
  stopAll();
  process.exit(0);
}

/** CPU µs used so far by the bench server and by redis-server (from /proc; 0 where unreadable). */
async function cpuNow() {
  const server = (await (await fetch(`http://127.0.0.1:${ports.cpu}/cpu`)).json()).us;
  let redisUs = 0;
  try {
    const stat = readFileSync(`/proc/${redis.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    redisUs = ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // utime + stime, in clock ticks (USER_HZ 100)
  } catch {}
  return { server, redis: redisUs };
}

async function run(side, seconds) {
  const before = await cpuNow();
  const result = await autocannon({ url: url(side), connections, duration: seconds });
  const after = await cpuNow();
  const n = Math.max(1, result.requests.total);
  return {
    side,
    serverUs: (after.server - before.server) / n,
    redisUs: (after.redis - before.redis) / n,
    rps: result.requests.total / seconds,
    bad: result.non2xx + result.errors + result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

console.log(
  `syscanGuard store bench: ${ports.traceBytes} B trace per response, ${connections} connections (one client each), ${duration} s per run, ${rounds} round(s), node ${process.version}`,
);
for (const side of SIDES) await run(side, 1); // warm-up
const results = [];
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? SIDES : [...SIDES].reverse();
  for (const side of order) {
    const res = await run(side, duration);
    results.push(res);
    console.log(
      `  ${side.padEnd(8)} ${res.rps.toFixed(0).padStart(7)} req/s  p50 ${res.p50} ms  p99 ${res.p99} ms  server ${res.serverUs.toFixed(0)} µs/req  redis-server ${res.redisUs.toFixed(0)} µs/req${res.bad ? `  (bad ${res.bad})` : ''}`,
    );
  }
}
stopAll();
const rps = (side) => median(results.filter((x) => x.side === side).map((x) => x.rps));
const bad = results.reduce((n, x) => n + x.bad, 0);
const us = (side, k) => median(results.filter((x) => x.side === side).map((x) => x[k]));
console.log(
  `throughput (median): default ${rps('default').toFixed(0)}, memory ${rps('memory').toFixed(0)}, redis ${rps('redis').toFixed(0)} req/s`,
);
console.log(
  `redis / memory ratio ${(rps('redis') / rps('memory')).toFixed(3)}; redis / default ${(rps('redis') / rps('default')).toFixed(3)}${bad ? `; ${bad} bad responses` : ''}`,
);
console.log(
  `CPU per request (median): default ${us('default', 'serverUs').toFixed(0)} µs, memory ${us('memory', 'serverUs').toFixed(0)} µs, redis ${us('redis', 'serverUs').toFixed(0)} µs + redis-server ${us('redis', 'redisUs').toFixed(0)} µs → memory / redis CPU ratio ${(us('memory', 'serverUs') / (us('redis', 'serverUs') + us('redis', 'redisUs'))).toFixed(3)}`,
);
