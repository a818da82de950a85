// Latency the guard adds inside the server: time from request to 'finish' measured by the
// app itself, unguarded and guarded alternating, one keep-alive connection, so the client's
// share of this 2-core machine does not count as the guard's. Complements run.mjs (autocannon).
// Usage: node bench/server-time.mjs [requests per side, default 3000]
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parseSyscallEvents } from '@syscan/core';
import { syscanGuard } from '@syscan/express-middleware';
import express from 'express';

const n = Number(process.argv[2] ?? 3000);
const trace = readFileSync(new URL('../test/fixtures/ls-etc-16k.strace', import.meta.url), 'utf8');
const names = [...new Set(parseSyscallEvents(trace).map((e) => e.syscall))];
const result = { exitCode: 0, stdout: 'total 1024\n', stderr: '', trace };
// bare: guarded with the session's context tracker off (`context: false`); norules: with
// `rules: false`. Both only to show where the guard's time goes.
const SIDES = ['plain', 'guarded', 'bare', 'norules'];
const micros = Object.fromEntries(SIDES.map((k) => [k, []]));
// CPU time (user + system) of this process from request to 'finish': the client waits in the
// same thread meanwhile, so it is the server's, and other load on the machine does not add to it.
const cpuMicros = Object.fromEntries(SIDES.map((k) => [k, []]));

function start(kind) {
  const guarded = kind !== 'plain';
  const app = express();
  app.use((_req, res, next) => {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    res.on('finish', () => {
      micros[kind].push(Number(process.hrtime.bigint() - t0) / 1e3);
      const c = process.cpuUsage(c0);
      cpuMicros[kind].push(c.user + c.system);
    });
    next();
  });
  const handler = (_req, res) => res.json(result);
  if (guarded) {
    const guard = syscanGuard({
      detector: { baselineSyscalls: names, maxTotalEventsPerMinute: 0, maxDeniedEventsPerMinute: 0 },
      context: kind !== 'bare',
      ...(kind === 'norules' ? { rules: false } : {}),
    });
    app.get('/', guard, handler);
  } else app.get('/', handler);
  return app.listen(0, '127.0.0.1');
}

const servers = SIDES.map(start);
await new Promise((r) => setTimeout(r, 100));
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = (server) =>
  new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: server.address().port, agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });
for (let i = 0; i < n; i++) for (const server of servers) await get(server);
const warm = Math.floor(n / 6);
const q = (xs, p) => {
  const s = xs.slice(warm).sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
};
const line = (k) =>
  `${k.padEnd(8)} p50 ${q(micros[k], 0.5).toFixed(0)} µs  p99 ${q(micros[k], 0.99).toFixed(0)} µs   CPU p50 ${q(cpuMicros[k], 0.5).toFixed(0)} µs  p99 ${q(cpuMicros[k], 0.99).toFixed(0)} µs  mean ${mean(cpuMicros[k]).toFixed(0)} µs`;
const mean = (xs) => xs.slice(warm).reduce((a, b) => a + b, 0) / Math.max(1, xs.length - warm);
console.log(
  `server-side time per request, ${trace.length} B trace, ${n} requests each (first ${warm} dropped)`,
);
for (const k of SIDES) console.log(line(k));
console.log(
  `added by the guard: p50 ${(q(micros.guarded, 0.5) - q(micros.plain, 0.5)).toFixed(0)} µs, p99 ${(q(micros.guarded, 0.99) - q(micros.plain, 0.99)).toFixed(0)} µs (goal p99 < 1000 µs)`,
);
// CPU time leaves out the time the process waited for a core: on a loaded machine its p99 is
// what the wall-clock p99 would be on an idle one (the wall-clock p99 is mostly other load).
console.log(
  `added by the guard in CPU time: p50 ${(q(cpuMicros.guarded, 0.5) - q(cpuMicros.plain, 0.5)).toFixed(0)} µs, p99 ${(q(cpuMicros.guarded, 0.99) - q(cpuMicros.plain, 0.99)).toFixed(0)} µs`,
);
console.log(
  `added with context: false: p50 ${(q(micros.bare, 0.5) - q(micros.plain, 0.5)).toFixed(0)} µs, p99 ${(q(micros.bare, 0.99) - q(micros.plain, 0.99)).toFixed(0)} µs`,
);
console.log(
  `CPU per request, plain/guarded (the throughput ratio of a CPU-bound server): ${(mean(cpuMicros.plain) / mean(cpuMicros.guarded)).toFixed(3)}; with context: false ${(mean(cpuMicros.plain) / mean(cpuMicros.bare)).toFixed(3)}; with rules: false ${(mean(cpuMicros.plain) / mean(cpuMicros.norules)).toFixed(3)}`,
);
for (const server of servers) server.close();
agent.destroy();
