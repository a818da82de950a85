// Where a guarded request's CPU goes, measured inside one process (server and a keep-alive
// client, unguarded and guarded requests interleaved one by one so machine load hits both):
//   - per request: the session's analyze(), the extractor, the response Express sends after
//     the verdict, and the guard's own code (the rest of the difference);
//   - per 16 KB trace, outside any server (hot loop): the parser alone, and a session with
//     the context tracker and rules off/on, so each stage's share can be read off; and what
//     making one session costs (a context tracker's construction is paid per request).
// The in-server stages cost more than the hot loop's (caches, GC of the request's garbage):
// compare the rows, not the absolute µs, across runs on a shared machine.
//
//   node bench/breakdown.mjs [requests per side, default 3000]
// BENCH_SMOKE=1 (CI smoke): a few requests and loops, table printed, nothing asserted.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import {
  AnalysisSession,
  createContextTracker,
  createParser,
  createSession,
  DetectorRegistry,
  parseSyscallEvents,
} from '@syscan/core';
import { createExtractor, syscanGuard } from '@syscan/express-middleware';
import express from 'express';

const smoke = process.env.BENCH_SMOKE === '1';
const n = smoke ? 30 : Number(process.argv[2] ?? 3000);
if (!Number.isInteger(n) || n < 1 || n > 1_000_000) {
  console.error('breakdown: requests per side must be a positive integer (at most 1000000)');
  process.exit(2);
}
const trace = readFileSync(new URL('../test/fixtures/ls-etc-16k.strace', import.meta.url), 'utf8');
const names = [...new Set(parseSyscallEvents(trace).map((e) => e.syscall))];
const result = { exitCode: 0, stdout: 'total 1024\ndrwxr-xr-x 2 root root 4096 .\n', stderr: '', trace };
const detector = { baselineSyscalls: names, maxTotalEventsPerMinute: 0, maxDeniedEventsPerMinute: 0 };

const cpu = (c) => c.user + c.system;
const spent = {};
const add = (k, c0) => {
  spent[k] = (spent[k] ?? 0) + cpu(process.cpuUsage(c0));
};

// The session's analyzeRun (the batch and the end of input), timed where the guard calls it
// (a bench may wrap core; the guard does not).
const analyzeRun = AnalysisSession.prototype.analyzeRun;
AnalysisSession.prototype.analyzeRun = function timedAnalyzeRun(text) {
  const c0 = process.cpuUsage();
  try {
    return analyzeRun.call(this, text);
  } finally {
    add('guard: session analyzeRun()', c0);
  }
};
const extract = createExtractor();

function start(side) {
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    const c0 = process.cpuUsage();
    res.on('finish', () => add(`${side}: request in the server`, c0));
    next();
  });
  const handler = (_req, res) => {
    res.json(result);
    // Set by onVerdict just before Express's own json() runs: what sending costs after the verdict.
    if (res.locals.sendFrom !== undefined) add('guard: res.json after the verdict', res.locals.sendFrom);
  };
  if (side === 'plain') {
    app.get('/', (_req, res) => {
      const c0 = process.cpuUsage();
      handler(_req, res);
      add('plain: res.json', c0);
    });
  } else {
    const guard = syscanGuard({
      detector,
      extract: (payload, req) => {
        const c0 = process.cpuUsage();
        try {
          return extract(payload, req);
        } finally {
          add('guard: extract', c0);
        }
      },
      onVerdict: (_v, _req, res) => {
        res.locals.sendFrom = process.cpuUsage();
      },
    });
    app.get('/', guard, handler);
  }
  return app.listen(0, '127.0.0.1');
}

const servers = { plain: start('plain'), guard: start('guard') };
await Promise.all(Object.values(servers).map((s) => new Promise((r) => s.once('listening', r))));
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = (server) =>
  new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: server.address().port, agent }, (res) => {
        if (res.headers['syscan-verdict'] !== undefined && res.headers['syscan-verdict'] !== 'clean')
          reject(new Error(`guarded side answered ${res.headers['syscan-verdict']}, expected clean`));
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });
const warm = smoke ? 10 : 500;
for (let i = 0; i < warm; i++) for (const s of Object.values(servers)) await get(s);
for (const k of Object.keys(spent)) delete spent[k];
for (let i = 0; i < n; i++) {
  const order = i % 2 ? ['guard', 'plain'] : ['plain', 'guard'];
  for (const side of order) {
    const c0 = process.cpuUsage();
    await get(servers[side]);
    add(`${side}: request, client + server`, c0);
  }
}
for (const s of Object.values(servers)) s.close();
agent.destroy();
AnalysisSession.prototype.analyzeRun = analyzeRun;

const per = (k) => (spent[k] ?? 0) / n;
const rows = [];
const row = (what, us) => rows.push({ what, 'µs/request': Math.round(us) });
row('plain: request, client + server', per('plain: request, client + server'));
row('guarded: request, client + server', per('guard: request, client + server'));
row('plain: in the server', per('plain: request in the server'));
row('guarded: in the server', per('guard: request in the server'));
const added = per('guard: request in the server') - per('plain: request in the server');
row('  added by the guard', added);
row('    session analyzeRun()', per('guard: session analyzeRun()'));
row('    extract', per('guard: extract'));
row(
  '    res.json after the verdict − plain res.json',
  per('guard: res.json after the verdict') - per('plain: res.json'),
);
row(
  '    the rest (guard code, session set-up)',
  added -
    per('guard: session analyzeRun()') -
    per('guard: extract') -
    (per('guard: res.json after the verdict') - per('plain: res.json')),
);
console.log(
  `server CPU per request, ${trace.length} B trace, ${n} requests per side interleaved, node ${process.version}`,
);
console.table(rows);

// The same trace in a hot loop, stage by stage.
const registry = new DetectorRegistry({ config: { ...detector, timeSource: 'clock' } });
const det = registry.get('bench');
const loops = smoke ? 20 : 2000;
const loop = (fn) => {
  for (let i = 0; i < Math.min(loops, 500); i++) fn();
  const c0 = process.cpuUsage();
  for (let i = 0; i < loops; i++) fn();
  return cpu(process.cpuUsage(c0)) / loops;
};
const stage = [];
const parseOnly = loop(() => {
  const p = createParser();
  p.push(trace);
  p.end();
});
const bare = loop(() => createSession({ detector: det, context: false, rules: false }).analyze(trace));
const withRules = loop(() => createSession({ detector: det, context: false }).analyze(trace));
const full = loop(() => createSession({ detector: det }).analyze(trace));
stage.push({ stage: 'parser alone', 'µs/trace': parseOnly });
stage.push({ stage: '+ detector and built-in checks (context, rules off)', 'µs/trace': bare });
stage.push({ stage: '+ rules (context off)', 'µs/trace': withRules });
stage.push({ stage: '+ context tracker (the guard default)', 'µs/trace': full });
// Kept in `made`, so that the JIT cannot drop a session nobody reads.
const made = [];
const keep = (x) => {
  made[made.length & 63] = x;
};
stage.push({
  stage: 'making one session (no input)',
  'µs/trace': loop(() => keep(createSession({ detector: det }))),
});
stage.push({
  stage: '  of which its context tracker',
  'µs/trace': loop(() => keep(createContextTracker())),
});
for (const s of stage) s['µs/trace'] = Number(s['µs/trace'].toFixed(1));
console.log(`the same trace in a hot loop (${loops} times each)`);
console.table(stage);
console.log(
  `at best (a guard that cost only the parser) it would serve ${(per('plain: request in the server') / (per('plain: request in the server') + parseOnly)).toFixed(3)} of the plain rate (CPU-bound); the goal is 0.9`,
);
