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
// bare: guarded with the session's context tracker off (`context: false`).
const micros = { plain: [], guarded: [], bare: [] };

function start(kind) {
  const guarded = kind !== 'plain';
  const app = express();
  app.use((_req, res, next) => {
    const t0 = process.hrtime.bigint();
    res.on('finish', () => micros[kind].push(Number(process.hrtime.bigint() - t0) / 1e3));
    next();
  });
  const handler = (_req, res) => res.json(result);
  if (guarded) {
    const guard = syscanGuard({
      detector: { baselineSyscalls: names, maxTotalEventsPerMinute: 0, maxDeniedEventsPerMinute: 0 },
      context: kind !== 'bare',
    });
    app.get('/', guard, handler);
  } else app.get('/', handler);
  return app.listen(0, '127.0.0.1');
}

const plain = start('plain');
const guarded = start('guarded');
const bare = start('bare');
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
for (let i = 0; i < n; i++) {
  await get(plain);
  await get(guarded);
  await get(bare);
}
const warm = Math.floor(n / 6);
const q = (xs, p) => {
  const s = xs.slice(warm).sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
};
const line = (k) =>
  `${k.padEnd(8)} p50 ${q(micros[k], 0.5).toFixed(0)} µs  p99 ${q(micros[k], 0.99).toFixed(0)} µs`;
console.log(
  `server-side time per request, ${trace.length} B trace, ${n} requests each (first ${warm} dropped)`,
);
console.log(line('plain'));
console.log(line('guarded'));
console.log(line('bare'));
console.log(
  `added by the guard: p50 ${(q(micros.guarded, 0.5) - q(micros.plain, 0.5)).toFixed(0)} µs, p99 ${(q(micros.guarded, 0.99) - q(micros.plain, 0.99)).toFixed(0)} µs (goal p99 < 1000 µs)`,
);
console.log(
  `added with context: false: p50 ${(q(micros.bare, 0.5) - q(micros.plain, 0.5)).toFixed(0)} µs, p99 ${(q(micros.bare, 0.99) - q(micros.plain, 0.99)).toFixed(0)} µs`,
);
plain.close();
guarded.close();
bare.close();
agent.destroy();
