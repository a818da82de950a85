// Benchmark target: one guarded tool endpoint served three times from one process, differing
// only in the guard's store: the guard's default (no store given), core's MemoryDetectorStore
// (the same shared-state code path as Redis, in memory) and a RedisStore. Prints the ports as
// one JSON line. Loopback only; the Redis URL comes as the first argument.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { MemoryDetectorStore, parseSyscallEvents } from '@syscan/core';
import { syscanGuard } from '@syscan/express-middleware';
import express from 'express';
import { RedisStore } from '../dist/index.mjs';

const redisUrl = process.argv[2];
const trace = readFileSync(
  new URL('../../express-middleware/test/fixtures/ls-etc-16k.strace', import.meta.url),
  'utf8',
);
const names = [...new Set(parseSyscallEvents(trace).map((e) => e.syscall))];
const result = { exitCode: 0, stdout: 'total 1024\ndrwxr-xr-x 2 root root 4096 .\n', stderr: '', trace };
// Clean against its baseline, with the default rate limits raised out of the way (the windows
// are still counted in the store on every response), so the hot path stays the clean one.
const detector = { baselineSyscalls: names, maxTotalEventsPerMinute: 1e9, maxDeniedEventsPerMinute: 1e9 };
const redis = new RedisStore({ url: redisUrl, prefix: `bench:${process.pid}:` });

function app(store) {
  const a = express();
  a.disable('x-powered-by');
  // One client per connection: the store sees as many keys as autocannon has connections.
  const guard = syscanGuard({
    detector,
    key: (req) => `c${req.socket.remotePort}`,
    ...(store ? { store } : {}),
  });
  a.get('/tools/shell', guard, (_req, res) => {
    res.json(result);
  });
  return a;
}

async function start(a) {
  const server = a.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server.address().port;
}

// CPU time of this process (µs), so the runner can report CPU per request beside throughput:
// on a shared machine it moves far less than req/s.
const cpu = express();
cpu.get('/cpu', (_req, res) => {
  const u = process.cpuUsage();
  res.json({ us: u.user + u.system });
});
const ports = {
  cpu: await start(cpu),
  default: await start(app(undefined)),
  memory: await start(app(new MemoryDetectorStore())),
  redis: await start(app(redis)),
  traceBytes: trace.length,
};
process.stdout.write(`${JSON.stringify(ports)}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await redis.close();
  process.exit(0);
});
