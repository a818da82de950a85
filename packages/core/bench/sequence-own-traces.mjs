#!/usr/bin/env node
// The sequence model on real traces made here: normal runs of everyday tools (varied
// arguments) against misbehaving runs (recon, a reverse-shell attempt, a shell spawned from
// python, reading secrets, persistence, archiving /etc), each run one `strace -f` file, one
// model per program (exe, from the trace's execve, as `syscan learn`/`syscan score` do), or
// with --no-context one model for every call:
//
//   node bench/sequence-own-traces.mjs [--runs N] [--no-context] [--list]
//
// 5-fold over the normal files; a file's score is its most anomalous process's (as
// `syscan score` prints). Prints AUC and detection at 1/5/10 % false alarms for stide
// (n = 6, mismatch rate, max over the file's processes) and syscan. Needs strace.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const core = await import(
  process.env.SYSCAN_CORE ? pathToFileURL(process.env.SYSCAN_CORE).href : '../dist/index.mjs'
);
const { SequenceLearner, createSequenceScorer, LoadedSequenceModel, parseRecords, createContextTracker } =
  core;
// --no-context: one model for every call (as without process context); else per program (exe).
const CONTEXT = !process.argv.includes('--no-context');

// Same knobs as sequence-eval.mjs: SEQ_WEIGHTS (JSON channel weights), SEQ_ORDER, SEQ_WINDOW.
const learnOptions = {};
if (process.env.SEQ_WEIGHTS) learnOptions.weights = JSON.parse(process.env.SEQ_WEIGHTS);
if (process.env.SEQ_ORDER) learnOptions.order = Number(process.env.SEQ_ORDER);
if (process.env.SEQ_WINDOW) learnOptions.window = Number(process.env.SEQ_WINDOW);
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 200;
const FOLDS = 5;
const dir = mkdtempSync(join(tmpdir(), 'syscan-seq-own-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'data');
mkdirSync(join(data, 'sub'), { recursive: true });
for (let i = 0; i < 8; i++)
  writeFileSync(join(data, i % 2 ? 'sub' : '', `f${i}.txt`), `line ${i}\n`.repeat(50 * (i + 1)));

let seed = 12345;
const random = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};
const pick = (xs) => xs[Math.floor(random() * xs.length)];
const file = () =>
  join(data, pick(['', 'sub']), `f${Math.floor(random() * 8)}.txt`).replace('/sub/f0', '/f0');
const py = '/usr/bin/python3';

const NORMAL = [
  () => ['ls', pick(['-l', '-a', '-la', '-1']), pick([data, join(data, 'sub'), '/usr'])],
  () => ['cat', file()],
  () => ['grep', pick(['line', '3', 'x']), file()],
  () => ['wc', pick(['-l', '-c', '-w']), file()],
  () => ['sort', pick(['-r', '-u', '-n']), file()],
  () => ['head', '-n', String(1 + Math.floor(random() * 20)), file()],
  () => ['sha256sum', file()],
  () => ['sed', pick(['s/line/row/', 's/1/one/g']), file()],
  () => ['find', data, '-name', pick(['*.txt', 'f1*', 'sub'])],
  () => ['tar', 'czf', join(dir, 'out.tgz'), '-C', data, pick(['sub', '.'])],
  () => ['gzip', '-c', file()],
  () => ['stat', file()],
  () => ['du', '-s', data],
  () => ['date', pick(['+%s', '-u', '-R'])],
  () => ['id'],
  () => ['sh', '-c', `ls ${data} | wc -l`],
  () => ['sh', '-c', `cat ${file()} | grep -c line`],
  () => [py, '-c', `print(sum(range(${Math.floor(random() * 100000)})))`],
  () => [py, '-c', `import json; print(json.dumps({"n": ${Math.floor(random() * 100)}}))`],
  () => ['cp', file(), join(dir, 'copy.txt')],
];

const ATTACKS = [
  ['sh', '-c', 'cat /etc/passwd > /dev/null; id; uname -a'],
  ['sh', '-c', 'cat /etc/shadow /etc/gshadow > /dev/null 2>&1'],
  [py, '-c', 'import os; os.system("id")'],
  [
    py,
    '-c',
    'import socket,os\ns=socket.socket()\ntry:\n s.connect(("127.0.0.1",9))\nexcept OSError: pass\nos.dup2(s.fileno(),0); os.dup2(s.fileno(),1)',
  ],
  [py, '-c', 'import subprocess; subprocess.run(["sh","-c","echo x"])'],
  [py, '-c', 'open("/etc/passwd").read(); import pwd; pwd.getpwall()'],
  ['find', '/usr/bin', '-maxdepth', '1', '-perm', '-4000'],
  ['tar', 'czf', '/dev/null', '-C', '/etc', 'apt'],
  ['sh', '-c', `echo '* * * * * sh' > ${join(dir, 'cron')}; chmod 755 ${join(dir, 'cron')}`],
  ['ls', '-laR', '/etc/apt'],
  ['cat', '/etc/shadow'],
  ['grep', '-r', 'root', '/etc/apt'],
  ['sh', '-c', 'for u in a b c d e f; do id $u > /dev/null 2>&1; done'],
  ['sh', '-c', `cp /etc/passwd ${join(dir, 'p')}; sort ${join(dir, 'p')} > /dev/null`],
  ['curl', '-s', '-m', '1', 'http://127.0.0.1:9/'],
  [
    py,
    '-c',
    'import urllib.request\ntry: urllib.request.urlopen("http://127.0.0.1:9/", timeout=1)\nexcept Exception: pass',
  ],
  ['sh', '-c', `ls ${data}; cat /etc/hostname; sleep 0`],
  ['dd', 'if=/etc/passwd', 'of=/dev/null', 'bs=1'],
  ['sha256sum', '/etc/passwd', '/etc/group'],
  ['sed', '-n', '1p', '/etc/shadow'],
];

function trace(name, argv) {
  const out = join(dir, name);
  spawnSync('strace', ['-f', '-o', out, ...argv], { stdio: 'ignore', cwd: dir, timeout: 20_000 });
  const byPid = new Map();
  const tracker = CONTEXT ? createContextTracker() : undefined;
  for (const record of parseRecords(readFileSync(out, 'utf8'))) {
    tracker?.observe(record);
    if (record.kind !== 'syscall') continue;
    const e = record;
    const pid = e.pid ?? 0;
    if (!byPid.has(pid)) byPid.set(pid, []);
    byPid.get(pid).push(e);
  }
  return { name, argv, processes: [...byPid.values()] };
}

const t0 = Date.now();
const normal = Array.from({ length: RUNS }, (_, i) => trace(`n${i}.strace`, pick(NORMAL)()));
const attacks = ATTACKS.map((argv, i) => trace(`a${i}.strace`, argv));
const calls = [...normal, ...attacks].reduce((n, t) => n + t.processes.reduce((m, p) => m + p.length, 0), 0);
console.log(
  `traced ${normal.length} normal and ${attacks.length} misbehaving runs (${calls} calls) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
);

const windows = (calls, visit) => {
  if (calls.length < 6) visit(calls.join(' '));
  else for (let i = 0; i + 6 <= calls.length; i++) visit(calls.slice(i, i + 6).join(' '));
};
const names = (p) => p.map((e) => e.syscall);
function stide(train) {
  const db = new Set();
  for (const t of train) for (const p of t.processes) windows(names(p), (w) => db.add(w));
  return (t) =>
    Math.max(
      ...t.processes.map((p) => {
        let n = 0;
        let miss = 0;
        windows(names(p), (w) => {
          n++;
          if (!db.has(w)) miss++;
        });
        return n === 0 ? 0 : miss / n;
      }),
    );
}
function syscan(train) {
  const learner = new SequenceLearner(learnOptions);
  for (const t of train) {
    for (const p of t.processes) for (const e of p) learner.observe(e);
    learner.endTrace();
  }
  const loaded = new LoadedSequenceModel(learner.toModel());
  return (t) => {
    const scorer = createSequenceScorer(loaded);
    for (const p of t.processes) for (const e of p) scorer.observe(e);
    // A program no normal run ran scores +∞; JSON (syscan score) prints it as 1e9.
    return Math.max(...scorer.end().map((r) => Math.min(r.score, 1e9)));
  };
}

const scores = { stide: { n: [], a: [] }, syscan: { n: [], a: [] } };
const byAttack = attacks.map(() => ({}));
for (let f = 0; f < FOLDS; f++) {
  const train = normal.filter((_, i) => i % FOLDS !== f);
  const held = normal.filter((_, i) => i % FOLDS === f);
  const fold = attacks.filter((_, i) => i % FOLDS === f);
  for (const [method, make] of [
    ['stide', stide],
    ['syscan', syscan],
  ]) {
    const score = make(train);
    scores[method].n.push(...held.map(score));
    for (const t of fold) {
      const x = score(t);
      scores[method].a.push(x);
      byAttack[attacks.indexOf(t)][method] = x;
    }
  }
}

function auc(normal, intrusion) {
  let sum = 0;
  for (const a of intrusion) for (const n of normal) sum += a > n ? 1 : a === n ? 0.5 : 0;
  return sum / (normal.length * intrusion.length);
}
function detectionAt(normal, intrusion, fa) {
  const sorted = [...normal].sort((a, b) => b - a);
  const threshold = sorted[Math.floor(fa * sorted.length)] ?? Number.NEGATIVE_INFINITY;
  return intrusion.filter((s) => s > threshold).length / intrusion.length;
}
const pct = (x) => `${(100 * x).toFixed(1).padStart(5)}%`;
console.log(
  `method   AUC     @1%    @5%   @10%   (${normal.length} normal files held out by fold, ${attacks.length} misbehaving)`,
);
for (const m of ['stide', 'syscan']) {
  const { n, a } = scores[m];
  console.log(
    `${m.padEnd(7)} ${auc(n, a).toFixed(3)} ${[0.01, 0.05, 0.1].map((fa) => pct(detectionAt(n, a, fa))).join(' ')}`,
  );
}
if (process.argv.includes('--list')) {
  // Each misbehaving run with both scores and where it ranks among the held-out normal files.
  const rank = (m, x) => scores[m].n.filter((s) => s >= x).length;
  byAttack.forEach((r, i) => {
    const cells = ['stide', 'syscan'].map((m) => `${m} ${r[m].toFixed(3)} (${rank(m, r[m])} normal ≥)`);
    console.log(`  ${cells.join('  ')}  ${ATTACKS[i].join(' ').slice(0, 60).replace(/\n/g, ' ')}`);
  });
}
