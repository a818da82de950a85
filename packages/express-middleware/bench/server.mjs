// Benchmark target: the same tool endpoint served twice from one process, unguarded and
// guarded, so both see the same runtime, JIT state and machine load. Prints the two ports
// as one JSON line on stdout. Loopback only.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { parseSyscallEvents } from '@syscan/core';
import { syscanGuard } from '@syscan/express-middleware';
import express from 'express';

const trace = readFileSync(new URL('../test/fixtures/ls-etc-16k.strace', import.meta.url), 'utf8');
const names = [...new Set(parseSyscallEvents(trace).map((e) => e.syscall))];
// A realistic tool result: a 16 KB strace trace, a little stdout, the exit code.
const result = { exitCode: 0, stdout: 'total 1024\ndrwxr-xr-x 2 root root 4096 .\n', stderr: '', trace };

function app(guarded) {
  const a = express();
  a.disable('x-powered-by');
  const handler = (_req, res) => {
    res.json(result);
  };
  if (guarded) {
    // Clean against its baseline; rate limits off so the hot path is the clean one throughout.
    const guard = syscanGuard({
      detector: { baselineSyscalls: names, maxTotalEventsPerMinute: 0, maxDeniedEventsPerMinute: 0 },
    });
    a.get('/tools/shell', guard, handler);
  } else {
    a.get('/tools/shell', handler);
  }
  return a;
}

async function start(a) {
  const server = a.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server.address().port;
}

const plain = await start(app(false));
const guarded = await start(app(true));
process.stdout.write(`${JSON.stringify({ plain, guarded, traceBytes: trace.length })}\n`);
// Exit with the parent.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
