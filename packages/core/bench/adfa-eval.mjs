// Evaluation of ADFA-format data (one process a file, its syscall numbers on one line) as an
// evaluator of ADFA-LD runs it: the BUILT CLI learns from the training files (`syscan learn`)
// and scores the validation and attack files (`syscan score`), and the table gives AUC and
// detection at 1/5/10 % false alarms per attack kind and overall, side by side with plain
// stide (n = 6, mismatch rate). Shared by sequence-server-traces.mjs (a proxy traced here)
// and sequence-adfa-ld.mjs (the real data set, where one has it).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A process of the evaluation: its file, its calls, and the scores the two models give it. */
// { file: string, calls: number[], syscan?: number, over?: boolean, stide?: number }

export function cliPath() {
  if (process.env.SYSCAN_CLI) return process.env.SYSCAN_CLI;
  const dist = join(repo, 'packages/cli/dist');
  const bin = readdirSync(dist).find((f) => /^bin\.(m|c)?js$/.test(f));
  if (bin === undefined) throw new Error(`no built CLI in ${dist} (run the build first)`);
  return join(dist, bin);
}

function cli(argv) {
  const r = spawnSync(process.execPath, [cliPath(), ...argv], { encoding: 'utf8', maxBuffer: 1 << 30 });
  // score exits 1 when a file is over its threshold: that is a result, not a failure.
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`syscan ${argv[0]} failed (${r.status}): ${r.stderr.trim().slice(-600)}`);
  return r;
}

const extra = (name) => (process.env[name] ? process.env[name].split(/\s+/).filter(Boolean) : []);

/**
 * `syscan learn --numbers calls` on `train` into `baseline`, then `syscan score` of `scored`;
 * sets each scored process's `syscan` score and `over` (over its calibrated threshold).
 * LEARN_ARGS / SCORE_ARGS (env) add CLI options.
 */
export function syscanScores(train, scored, baseline) {
  const t0 = process.hrtime.bigint();
  const learned = cli([
    'learn',
    '--numbers',
    'calls',
    ...extra('LEARN_ARGS'),
    '-o',
    baseline,
    ...train.map((p) => p.file),
  ]);
  const learnSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const t1 = process.hrtime.bigint();
  const out = cli([
    'score',
    '--baseline',
    baseline,
    '--numbers',
    'calls',
    ...extra('SCORE_ARGS'),
    ...scored.map((p) => p.file),
  ]);
  const scoreSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
  const byFile = new Map();
  for (const line of out.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const j = JSON.parse(line);
    byFile.set(j.file, { score: j.score ?? Number.NEGATIVE_INFINITY, over: j.overThreshold === true });
  }
  for (const p of scored) {
    const s = byFile.get(p.file);
    if (s === undefined) throw new Error(`syscan score printed nothing for ${p.file}`);
    p.syscan = s.score;
    p.over = s.over;
  }
  const size = readFileSync(baseline).length;
  return { learnSeconds, scoreSeconds, size, learnReport: learned.stderr.trim() };
}

/** A file of numbers, as the CLI reads it: whitespace-separated calls. */
export function readCalls(file) {
  const text = readFileSync(file, 'utf8').trim();
  return text === '' ? [] : text.split(/\s+/).map(Number);
}

// ---- stide (Forrest et al. 1996), as in sequence-eval.mjs -----------------------------------
function windowsOf(calls, n, visit) {
  if (calls.length < n) visit(calls.join(' '));
  else for (let i = 0; i + n <= calls.length; i++) visit(calls.slice(i, i + n).join(' '));
}

/** Sets each scored process's `stide` score: the share of its 6-call windows no training process had. */
export function stideScores(train, scored) {
  const db = new Set();
  for (const p of train) windowsOf(p.calls, 6, (w) => db.add(w));
  for (const p of scored) {
    let windows = 0;
    let misses = 0;
    windowsOf(p.calls, 6, (w) => {
      windows++;
      if (!db.has(w)) misses++;
    });
    p.stide = windows === 0 ? 0 : misses / windows;
  }
}

// ---- metrics and table ----------------------------------------------------------------------
/** AUC = P(attack score > normal score), ties count half (Mann–Whitney). */
export function auc(normal, attack) {
  const all = [...normal.map((s) => [s, 0]), ...attack.map((s) => [s, 1])].sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j][0] === all[i][0]) j++;
    for (let k = i; k < j; k++) if (all[k][1] === 1) rankSum += (i + 1 + j) / 2;
    i = j;
  }
  return (rankSum - (attack.length * (attack.length + 1)) / 2) / (normal.length * attack.length);
}

/** Detection at false-alarm rate fa: the threshold lets through at most fa of the normal scores. */
export function detectionAt(normal, attack, fa) {
  const sorted = [...normal].sort((a, b) => b - a);
  const threshold = sorted[Math.floor(fa * sorted.length)] ?? Number.NEGATIVE_INFINITY;
  return attack.filter((s) => s > threshold).length / attack.length;
}

const pct = (x) => `${(100 * x).toFixed(1)}%`.padStart(6);
export const callsOf = (list) => list.reduce((n, p) => n + p.calls.length, 0);

/**
 * The table: one row per attack kind and one for all, stide and syscan side by side, and the
 * share each kind syscan's own calibrated threshold caught. `attacks`: [kind, processes][].
 */
export function printTable(normal, attacks) {
  const rows = [...attacks, ['all attacks', attacks.flatMap(([, list]) => list)]];
  const width = Math.max(14, ...rows.map(([name]) => name.length));
  console.log(
    `${'attack'.padEnd(width)} ${'procs'.padStart(5)} ${'calls'.padStart(8)} | ${'stide AUC'.padStart(9)} ${'@1%'.padStart(6)} ${'@5%'.padStart(6)} ${'@10%'.padStart(6)} | ${'syscan AUC'.padStart(10)} ${'@1%'.padStart(6)} ${'@5%'.padStart(6)} ${'@10%'.padStart(6)} | own thr det`,
  );
  for (const [name, list] of rows) {
    if (list.length === 0) {
      console.log(`${name.padEnd(width)}     0 (no process)`);
      continue;
    }
    const cells = ['stide', 'syscan'].map((m) => {
      const n = normal.map((p) => p[m]);
      const a = list.map((p) => p[m]);
      return `${auc(n, a)
        .toFixed(3)
        .padStart(
          m === 'stide' ? 9 : 10,
        )} ${[0.01, 0.05, 0.1].map((fa) => pct(detectionAt(n, a, fa))).join(' ')}`;
    });
    const own = list.filter((p) => p.over).length / list.length;
    console.log(
      `${name.padEnd(width)} ${String(list.length).padStart(5)} ${String(callsOf(list)).padStart(8)} | ${cells[0]} | ${cells[1]} | ${pct(own)}`,
    );
  }
  const fa = normal.filter((p) => p.over).length / normal.length;
  console.log(`syscan's own calibrated threshold: ${pct(fa).trim()} false alarms on validation`);
}

/** Resamples in {@link printUncertainty}: enough for the 2.5th and 97.5th percentiles to settle to ±0.005 AUC. */
const RESAMPLES = 1000;

/**
 * How far the "all attacks" figures can be trusted: AUC and detection at 5 % false alarms of
 * each model, and syscan's lead over stide, each with the 95 % interval of a paired bootstrap
 * (normal and attack processes resampled apart, both models scored on the same resample). With
 * 150 held-out normal processes the 5 % threshold is set by 7 of them, and two models a few
 * points apart may not differ at all; an interval that excludes 0 says they do. Seeded, so a
 * rerun on the same data prints the same intervals.
 */
export function printUncertainty(normal, attacks) {
  const attack = attacks.flatMap(([, list]) => list);
  if (normal.length === 0 || attack.length === 0) return;
  const random = seededRandom(0x5eed);
  const pick = (list) => Array.from(list, () => list[Math.floor(random() * list.length)]);
  const figures = (n, a) => {
    const out = {};
    for (const m of ['stide', 'syscan']) {
      const ns = n.map((p) => p[m]);
      const as = a.map((p) => p[m]);
      out[m] = [auc(ns, as), detectionAt(ns, as, 0.05)];
    }
    return [...out.stide, ...out.syscan, out.syscan[0] - out.stide[0], out.syscan[1] - out.stide[1]];
  };
  const point = figures(normal, attack);
  const samples = point.map(() => []);
  for (let r = 0; r < RESAMPLES; r++) {
    const resampled = figures(pick(normal), pick(attack));
    for (let i = 0; i < resampled.length; i++) samples[i].push(resampled[i]);
  }
  const interval = (i, show) => {
    const sorted = samples[i].sort((x, y) => x - y);
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return `${show(point[i])} (${show(at(0.025))} to ${show(at(0.975))})`;
  };
  const auc3 = (x) => x.toFixed(3);
  const pct1 = (x) => `${(100 * x).toFixed(1)}%`;
  const lead = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
  const points = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
  console.log(
    `all attacks, 95 % intervals (${RESAMPLES} paired bootstrap resamples of ${normal.length} normal and ${attack.length} attack processes):`,
  );
  console.log(`  stide   AUC ${interval(0, auc3)}, @5% ${interval(1, pct1)}`);
  console.log(`  syscan  AUC ${interval(2, auc3)}, @5% ${interval(3, pct1)}`);
  console.log(`  syscan's lead: AUC ${interval(4, lead)}, @5% ${interval(5, points)} points`);
}

/** mulberry32: a small seeded generator, so the intervals are the same on every run. */
function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Held-out processes whose calls are exactly those of a training process (a server's helper
 * child runs the same in an attack run as in a normal one), and the AUC a model reaches at
 * best when it ranks every other attack above every normal process but scores such a copy
 * like its normal twins (below the novel normal processes, level with the copied ones).
 */
export function printCopies(train, normal, attacks) {
  const learned = new Set(train.map((p) => p.calls.join(' ')));
  const copied = (list) => list.filter((p) => learned.has(p.calls.join(' '))).length;
  const n = normal.length;
  const nc = copied(normal);
  const ac = copied(attacks);
  const ceiling = 1 - (ac / attacks.length) * ((n - nc) / n + (0.5 * nc) / n);
  console.log(
    `copies of a training process: ${nc} of ${n} normal, ${ac} of ${attacks.length} attack processes ` +
      `(${pct(ac / attacks.length).trim()}); AUC at best ${ceiling.toFixed(3)} for a model that scores a copy like its twins`,
  );
}

/**
 * The set without verbatim repeats: a held-out trace whose calls are exactly those of a
 * training trace or of an earlier held-out trace is left out. ADFA-LD repeats many traces
 * word for word, and a copy of a learned trace is the easiest normal case there is; copies of
 * the set that keep one file per content (as code indexes and some mirrors do) have none, so
 * this table says what a model does on traces it has not seen verbatim. Returns undefined
 * when nothing repeats (the first table already is that one).
 */
export function withoutRepeats(train, normal, attacks) {
  const seen = new Set(train.map((p) => p.calls.join(' ')));
  const first = (p) => {
    const key = p.calls.join(' ');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  const uniqueNormal = normal.filter(first);
  const uniqueAttacks = attacks.map(([kind, list]) => [kind, list.filter(first)]);
  const kept = uniqueNormal.length + uniqueAttacks.reduce((n, [, list]) => n + list.length, 0);
  const total = normal.length + attacks.reduce((n, [, list]) => n + list.length, 0);
  if (kept === total || uniqueNormal.length === 0 || kept === uniqueNormal.length) return undefined;
  return { normal: uniqueNormal, attacks: uniqueAttacks, left: total - kept };
}
