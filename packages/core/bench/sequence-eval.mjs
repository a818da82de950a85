#!/usr/bin/env node
// Evaluation of the per-program sequence model on the UNM system-call data sets
// (../shared/corpus/sequences/unm, see its README), side by side with plain stide:
//
//   node bench/sequence-eval.mjs [--folds K] [--single] [--no-speed]
//
// Per data set (program): the normal processes are split into K folds (default 5, fewer
// when there are fewer processes); each fold's model learns from the other folds, then
// scores that fold's normal processes and every K-th intrusion process. Prints per set the
// area under the ROC curve and the detection rate at 1 %, 5 % and 10 % false alarms (the
// thresholds set on the held-out normal scores), for stide (n = 6, mismatch rate) and for
// syscan, plus syscan's own calibrated 1 % threshold (false alarms and detection it gives).
// `all` pools every process of every set. Then: model size and learn/score speed.
// --single learns one model for all programs (as when traces do not say which program ran).
// Env: SYSCAN_CORE (another build of core), SYSCAN_SHARED (the shared/ folder),
// SEQ_WEIGHTS (JSON channel weights), SEQ_ORDER, SEQ_WINDOW; SYSCAN_CORE_AGAINST (a second
// build of core whose scoring speed is measured in turn with this one's, as a ratio, and
// whose scores and explanations are compared with this one's, process by process).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const core = await import(
  process.env.SYSCAN_CORE ? pathToFileURL(process.env.SYSCAN_CORE).href : '../dist/index.mjs'
);
const { SequenceLearner, createSequenceScorer, LoadedSequenceModel, parseSyscallEvents } = core;

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const FOLDS = Number(value('--folds', '5'));
const SINGLE = flag('--single');
const shared = process.env.SYSCAN_SHARED ?? fileURLToPath(new URL('../../../../shared', import.meta.url));
const unm = join(shared, 'corpus', 'sequences', 'unm');
const learnOptions = {};
if (process.env.SEQ_WEIGHTS) learnOptions.weights = JSON.parse(process.env.SEQ_WEIGHTS);
if (process.env.SEQ_ORDER) learnOptions.order = Number(process.env.SEQ_ORDER);
if (process.env.SEQ_WINDOW) learnOptions.window = Number(process.env.SEQ_WINDOW);

// ---- data: UNM `PID NUMBER` lines → processes (calls in order, by pid per file) ----------
const sendmailNames = readFileSync(join(unm, 'synthetic-sendmail', 'syscallmap.txt'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => l.trim().split(/\s+/)[1]);

/** The processes of one UNM file: [{ pid, calls: string[] }] in order of first call. */
function readUnm(path, names) {
  const byPid = new Map();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [pid, nr] = line.trim().split(/\s+/);
    if (pid === undefined || nr === undefined || pid === '') continue;
    let calls = byPid.get(pid);
    if (calls === undefined) {
      calls = [];
      byPid.set(pid, calls);
    }
    calls.push(names?.[Number(nr)] ?? `sys${nr}`);
  }
  return [...byPid].map(([pid, calls]) => ({ pid: Number(pid), calls, file: path }));
}

const files = (set, kind, filter = () => true) =>
  readdirSync(join(unm, set, kind))
    .filter(filter)
    .sort()
    .map((f) => join(unm, set, kind, f));

const SETS = [
  { name: 'synthetic-sendmail', names: sendmailNames },
  { name: 'live-lpr' },
  { name: 'synthetic-lpr' },
  { name: 'synthetic-ftp' },
  { name: 'xlock' },
  { name: 'live-named' },
  { name: 'login', dir: 'login-and-ps', filter: (f) => f.startsWith('login') },
  { name: 'ps', dir: 'login-and-ps', filter: (f) => f.startsWith('ps') },
  { name: 'inetd' },
].map((s) => {
  const dir = s.dir ?? s.name;
  const read = (kind) => files(dir, kind, s.filter).flatMap((f) => readUnm(f, s.names));
  return { name: s.name, normal: read('normal'), intrusion: read('intrusion') };
});

// ---- stide (Forrest et al. 1996): database of length-6 windows; score = mismatch rate ----
function windowsOf(calls, n, visit) {
  if (calls.length < n) visit(calls.join(' '));
  else for (let i = 0; i + n <= calls.length; i++) visit(calls.slice(i, i + n).join(' '));
}
function stideModel(processes) {
  const db = new Set();
  for (const p of processes) windowsOf(p.calls, 6, (w) => db.add(w));
  return db;
}
function stideScore(db, calls) {
  let windows = 0;
  let misses = 0;
  windowsOf(calls, 6, (w) => {
    windows++;
    if (!db.has(w)) misses++;
  });
  return windows === 0 ? 0 : misses / windows;
}

// ---- syscan ------------------------------------------------------------------------------
function learnSyscan(processes, program) {
  const learner = new SequenceLearner({ ...learnOptions, program });
  for (const p of processes) {
    for (const call of p.calls) learner.observeCall(p.pid, program, call);
    learner.endTrace();
  }
  return learner.toModel();
}
function scoreSyscan(loaded, processes, program) {
  const scorer = createSequenceScorer(loaded);
  return processes.map((p) => {
    for (const call of p.calls) scorer.observeCall(p.pid, program, call);
    return scorer.end()[0];
  });
}

// ---- metrics -----------------------------------------------------------------------------
/** AUC = P(intrusion score > normal score), ties count half (Mann–Whitney). */
function auc(normal, intrusion) {
  const all = [...normal.map((s) => [s, 0]), ...intrusion.map((s) => [s, 1])].sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j][0] === all[i][0]) j++;
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k][1] === 1) rankSum += rank;
    i = j;
  }
  const n1 = intrusion.length;
  const n0 = normal.length;
  return (rankSum - (n1 * (n1 + 1)) / 2) / (n0 * n1);
}
/** Detection rate at false-alarm rate `fa`: threshold = the lowest score that at most fa of normal exceed. */
function detectionAt(normal, intrusion, fa) {
  const sorted = [...normal].sort((a, b) => b - a);
  const allowed = Math.floor(fa * sorted.length);
  const threshold = sorted[allowed] ?? Number.NEGATIVE_INFINITY; // scores > threshold alarm
  return intrusion.filter((s) => s > threshold).length / intrusion.length;
}
const pct = (x) => `${(100 * x).toFixed(1).padStart(5)}%`;

// ---- cross-validated run -----------------------------------------------------------------
function shuffle(n, seed) {
  const order = Array.from({ length: n }, (_, i) => i);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Fold f of a set: its held-out normal processes, the rest (to learn from), its intrusion processes to score. */
function foldOf(set, f) {
  const k = Math.min(FOLDS, set.normal.length);
  if (f >= k) return { held: [], train: set.normal, attacks: [] };
  const order = shuffle(set.normal.length, 7);
  const held = [];
  const train = [];
  order.forEach((index, position) => {
    (position % k === f ? held : train).push(set.normal[index]);
  });
  // One normal process alone: learn from it and hold it out too (nothing else to learn from).
  return {
    held,
    train: train.length > 0 ? train : held,
    attacks: set.intrusion.filter((_, i) => i % k === f),
  };
}

function evaluate(sets) {
  const results = sets.map(() => ({ stide: { n: [], a: [] }, syscan: { n: [], a: [], nOver: 0, aOver: 0 } }));
  const record = (r, method, kind, score) => r[method][kind].push(score);
  for (let f = 0; f < FOLDS; f++) {
    const folds = sets.map((set) => foldOf(set, f));
    // --single: one model of every set's training processes; else one per set.
    const shared = SINGLE
      ? new LoadedSequenceModel(
          learnSyscan(
            folds.flatMap((x) => x.train),
            'default',
          ),
        )
      : undefined;
    const sharedDb = SINGLE ? stideModel(folds.flatMap((x) => x.train)) : undefined;
    sets.forEach((set, i) => {
      const { held, train, attacks } = folds[i];
      if (held.length === 0) return;
      const program = SINGLE ? 'default' : set.name;
      const db = sharedDb ?? stideModel(train);
      const loaded = shared ?? new LoadedSequenceModel(learnSyscan(train, program));
      const r = results[i];
      for (const p of held) record(r, 'stide', 'n', stideScore(db, p.calls));
      for (const p of attacks) record(r, 'stide', 'a', stideScore(db, p.calls));
      for (const [list, kind] of [
        [held, 'n'],
        [attacks, 'a'],
      ]) {
        for (const s of scoreSyscan(loaded, list, program)) {
          record(r, 'syscan', kind, s.score);
          if (s.overThreshold) r.syscan[`${kind}Over`]++;
        }
      }
    });
  }
  const rows = sets.map((set, i) => ({
    name: set.name,
    normal: results[i].syscan.n.length,
    intrusion: results[i].syscan.a.length,
    ...results[i],
  }));
  const pool = (method, kind) => results.flatMap((r) => r[method][kind]);
  const sum = (kind) => results.reduce((n, r) => n + r.syscan[kind], 0);
  rows.push({
    name: 'all (pooled)',
    normal: pool('syscan', 'n').length,
    intrusion: pool('syscan', 'a').length,
    stide: { n: pool('stide', 'n'), a: pool('stide', 'a') },
    syscan: { n: pool('syscan', 'n'), a: pool('syscan', 'a'), nOver: sum('nOver'), aOver: sum('aOver') },
  });
  return rows;
}

function printTable(rows) {
  console.log(
    `${'set'.padEnd(20)} ${'norm'.padStart(5)} ${'intr'.padStart(5)} | ${'stide AUC'.padStart(9)} ${'@1%'.padStart(6)} ${'@5%'.padStart(6)} ${'@10%'.padStart(6)} | ${'syscan AUC'.padStart(10)} ${'@1%'.padStart(6)} ${'@5%'.padStart(6)} ${'@10%'.padStart(6)} | own 1% thr: FA / det`,
  );
  const aucs = { stide: [], syscan: [] };
  for (const r of rows) {
    const cells = ['stide', 'syscan'].map((m) => {
      const a = auc(r[m].n, r[m].a);
      if (!r.name.startsWith('all')) aucs[m].push(a);
      return `${a.toFixed(3).padStart(m === 'stide' ? 9 : 10)} ${[0.01, 0.05, 0.1].map((fa) => pct(detectionAt(r[m].n, r[m].a, fa)).padStart(6)).join(' ')}`;
    });
    console.log(
      `${r.name.padEnd(20)} ${String(r.normal).padStart(5)} ${String(r.intrusion).padStart(5)} | ${cells[0]} | ${cells[1]} | ${pct(r.syscan.nOver / r.normal)} / ${pct(r.syscan.aOver / r.intrusion)}`,
    );
  }
  const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
  console.log(
    `${'mean of sets (AUC)'.padEnd(32)} | ${mean(aucs.stide).toFixed(4).padStart(9)} ${''.padEnd(20)} | ${mean(aucs.syscan).toFixed(4).padStart(10)}`,
  );
}

console.log(
  `UNM, process level, ${FOLDS}-fold over normal processes${SINGLE ? ', one model for all programs' : ', one model per program'}; options ${JSON.stringify(learnOptions)}`,
);
printTable(evaluate(SETS));

// ---- bare-call traces: the `PID name() = 0` form through the strace reader learns the same model
{
  const set = SETS[0];
  const text = set.normal.map((p) => p.calls.map((c) => `${p.pid} ${c}() = 0`).join('\n')).join('\n');
  const viaParser = new SequenceLearner({ ...learnOptions, program: set.name });
  // Each UNM process once: pids do not repeat across these files' processes.
  for (const event of parseSyscallEvents(text)) viaParser.observe(event);
  const viaCalls = new SequenceLearner({ ...learnOptions, program: set.name });
  for (const p of set.normal) for (const c of p.calls) viaCalls.observeCall(p.pid, set.name, c);
  const same = JSON.stringify(viaParser.toModel()) === JSON.stringify(viaCalls.toModel());
  console.log(
    `\nbare-call form (\`PID name() = 0\` lines through parseSyscallEvents): ${same ? 'same model' : 'DIFFERENT model'} as from the calls`,
  );
}

// ---- size and speed ----------------------------------------------------------------------
if (!flag('--no-speed')) {
  const everything = SETS.flatMap((s) =>
    s.normal.map((p) => ({ ...p, program: SINGLE ? 'default' : s.name })),
  );
  let calls = 0;
  // CPU time, not wall time: the machine is shared, and "on one core" is what is asked.
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const c0 = cpu();
  const t0 = process.hrtime.bigint();
  const learner = new SequenceLearner(learnOptions);
  for (const p of everything) {
    for (const c of p.calls) learner.observeCall(p.pid, p.program, c);
    learner.endTrace();
    calls += p.calls.length;
  }
  const model = learner.toModel();
  const learnSeconds = cpu() - c0;
  const learnWall = Number(process.hrtime.bigint() - t0) / 1e9;
  const json = JSON.stringify(model);
  const t1 = process.hrtime.bigint();
  const loaded = new LoadedSequenceModel(JSON.parse(json));
  const loadSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
  console.log(
    `\nmodel: ${loaded.programs.size} programs, ${calls} calls learned in ${learnSeconds.toFixed(2)} s CPU (${learnWall.toFixed(2)} s wall; ${(calls / learnSeconds / 1e6).toFixed(2)} M calls/s, 5-fold calibration included); ` +
      `JSON ${(json.length / 1024).toFixed(0)} KiB; load ${(loadSeconds * 1000).toFixed(0)} ms`,
  );
  // Scoring speed, one core: every call as a SyscallEvent through observe(event). Normal
  // processes the model learned (no alert, the common case); held-out ones (every 5th normal
  // process of each set, scored by a model learned without them: they are near a learned run,
  // not one of them, so the search for the nearest run prunes less); then all, where every
  // process over its threshold also gets its explanation built (twice: at the crossing and at
  // its end). With SYSCAN_CORE_AGAINST (another build of core, e.g. the last release's), each
  // round runs both builds in turn, so the machine's slow spells hit both alike, and the
  // median ratio of the pairs is printed.
  const against = process.env.SYSCAN_CORE_AGAINST
    ? await import(pathToFileURL(process.env.SYSCAN_CORE_AGAINST).href)
    : undefined;
  const heldOut = SETS.map((s) => ({ ...s, held: s.normal.filter((_, i) => i % 5 === 0) }));
  const learnWithout = new SequenceLearner(learnOptions);
  for (const s of SETS)
    s.normal.forEach((p, i) => {
      if (i % 5 === 0) return;
      for (const c of p.calls) learnWithout.observeCall(p.pid, SINGLE ? 'default' : s.name, c);
      learnWithout.endTrace();
    });
  const modelWithout = JSON.stringify(learnWithout.toModel());
  const speed = (kinds, modelJson, sets = SETS) => {
    const perSet = sets.map((s) => {
      let line = 0;
      const processes = kinds
        .flatMap((kind) => s[kind])
        .map((p) => ({
          pid: p.pid,
          events: p.calls.map((c) => ({
            kind: 'syscall',
            syscall: c,
            denied: false,
            raw: '',
            source: 'strace',
            pid: p.pid,
            line: ++line,
          })),
        }));
      return { program: SINGLE ? 'default' : s.name, processes };
    });
    const total = perSet.reduce((n, s) => n + s.processes.reduce((m, p) => m + p.events.length, 0), 0);
    const builds = [core, ...(against ? [against] : [])].map((c) => ({
      core: c,
      loaded: new c.LoadedSequenceModel(JSON.parse(modelJson)),
      rates: [],
    }));
    let over = 0;
    const round = ({ core: c, loaded: l, rates }) => {
      over = 0;
      const c2 = cpu();
      for (const s of perSet) {
        const scorer = c.createSequenceScorer(l, { program: s.program });
        for (const p of s.processes) {
          for (const e of p.events) scorer.observe(e);
          if (scorer.endProcess(p.pid)?.overThreshold) over++;
        }
      }
      rates.push(total / (cpu() - c2));
    };
    // Two rounds each to warm up, then the measured ones (5 alone, 11 pairs against another build).
    const rounds = against ? 13 : 7;
    for (let r = 0; r < rounds; r++) (r % 2 === 0 ? builds : [...builds].reverse()).forEach(round);
    const [mine, theirs] = builds.map((b) => b.rates.slice(2));
    // What each build said of every process (score and explanation), to tell a change that
    // is only faster from one that also scores differently.
    const said = ({ core: c, loaded: l }) =>
      perSet.flatMap((s) => {
        const scorer = c.createSequenceScorer(l, { program: s.program });
        return s.processes.map((p) => {
          for (const e of p.events) scorer.observe(e);
          const r = scorer.endProcess(p.pid);
          return JSON.stringify([r?.score, r?.explanation]);
        });
      });
    let out = `${(Math.max(...mine) / 1e6).toFixed(1)} M calls/s over ${total} calls (${over} processes over threshold)`;
    if (theirs !== undefined) {
      const ratios = mine.map((m, i) => m / theirs[i]).sort((a, b) => a - b);
      const [a, b] = builds.map(said);
      const same = a.filter((x, i) => x === b[i]).length;
      out += ` [against: ${(Math.max(...theirs) / 1e6).toFixed(1)}; median ratio ${ratios[ratios.length >> 1].toFixed(2)}; same score and explanation for ${same} of ${a.length} processes]`;
    }
    return out;
  };
  console.log(
    `scoring, CPU time on one core, best of ${against ? 'the paired rounds' : '5'}: learned normal processes ${speed(['normal'], json)}; ` +
      `held-out normal processes ${speed(['held'], modelWithout, heldOut)}; all ${speed(['normal', 'intrusion'], json)}`,
  );
}
