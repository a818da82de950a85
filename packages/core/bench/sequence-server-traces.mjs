#!/usr/bin/env node
// An ADFA-LD-like proxy made from real traces: real servers on 127.0.0.1 (OpenSSH's sshd,
// vsftpd, a small forking web server running a PHP app through php-cgi), each under
// `strace -f`, driven by a varied normal workload and, separately, by six attacks that work
// through the servers' own child processes: hydra-ssh, hydra-ftp (password guessing loops),
// webshell (an uploaded PHP shell running commands, one connecting back), reverse-shell
// (command injection → connect back, dup2, exec /bin/sh), meterpreter (command injection → a
// stager that runs a second stage in-process, PHP or Python), adduser (command injection →
// useradd/chpasswd/sudoers on a copy of /etc). Every process (strace pid, the daemon's own
// listener left out; threads folded into their process, as audit records them) becomes one
// ADFA-format file: its x86_64 syscall numbers on one line.
// Then, as an evaluator of ADFA-LD does, the BUILT CLI learns from train/ and scores
// validation/ and attack/<kind>/ (`--numbers calls`: one model for every process, no program
// names), and the table gives AUC and detection at 1/5/10 % false alarms per attack kind and
// overall, side by side with plain stide (n = 6, mismatch rate).
//
//   node bench/sequence-server-traces.mjs [--data DIR] [--reuse] [--rounds N] [--train-rounds N]
//                                         [--runs N] [--min-calls N]
//
// --data DIR keeps the raw traces (DIR/raw) and the ADFA files (DIR/adfa/train, validation,
// attack/<kind>; one process a file) there (default: a temp dir, removed); --reuse skips
// tracing and conversion when DIR already holds them (a model variant then costs seconds). --rounds: normal rounds (each
// a fresh start of the three servers; the first --train-rounds are train/, the rest
// validation/, so validation comes from other runs than training). --runs: runs per attack.
// --min-calls: processes with fewer calls are left out (default 10).
// Needs root, strace, unshare, sshpass, openssh-server, vsftpd, php-cgi (see the report).
// Env: SYSCAN_CLI (another built CLI), LEARN_ARGS / SCORE_ARGS (extra CLI options).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  callsOf,
  printCopies,
  printTable,
  printUncertainty,
  stideScores,
  syscanScores,
  withoutRepeats,
} from './adfa-eval.mjs';
import { makeWorkspace, startTraced } from './server-traces/servers.mjs';
import * as load from './server-traces/workloads.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { parseRecords, syscallNumber } = await import('../dist/index.mjs');

const args = process.argv.slice(2);
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const ROUNDS = Number(value('--rounds', '5'));
const TRAIN_ROUNDS = Number(value('--train-rounds', '2'));
const RUNS = Number(value('--runs', '5'));
const MIN_CALLS = Number(value('--min-calls', '10'));
const given = value('--data', undefined);
const DATA = given ?? mkdtempSync(join(tmpdir(), 'syscan-server-traces-'));
if (given === undefined) process.on('exit', () => rmSync(DATA, { recursive: true, force: true }));
const RAW = join(DATA, 'raw');
const ADFA = join(DATA, 'adfa');
const manifestPath = join(RAW, 'manifest.json');
const adfaIndexPath = join(ADFA, 'index.json');
const KINDS = ['hydra-ftp', 'hydra-ssh', 'webshell', 'reverse-shell', 'meterpreter', 'adduser'];

if (process.getuid?.() !== 0) {
  console.log('sequence-server-traces: needs root (servers drop privileges, private /etc mounts); skipped');
  process.exit(0);
}
for (const tool of [
  'strace',
  'unshare',
  'sshpass',
  '/usr/sbin/sshd',
  '/usr/sbin/vsftpd',
  '/usr/bin/php-cgi',
  'php',
]) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.log(
      `sequence-server-traces: ${tool} not found (apt-get install strace sshpass openssh-server vsftpd php-cgi); skipped`,
    );
    process.exit(0);
  }
}

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

// ---- 1. tracing --------------------------------------------------------------------------
async function traceAll() {
  // A fresh workspace too: uploads, added users and home files of an earlier run would leak in.
  for (const d of [RAW, join(DATA, 'ws'), join(DATA, 'client')]) rmSync(d, { recursive: true, force: true });
  mkdirSync(RAW, { recursive: true });
  const ws = await makeWorkspace(join(DATA, 'ws'));
  const clientDir = join(DATA, 'client');
  mkdirSync(clientDir, { recursive: true });
  const traces = [];
  const took = {};
  const traced = async (kind, name, work) => {
    const file = join(RAW, `${name}.strace`);
    const server = await startTraced(kind, ws, file);
    const t = Date.now();
    try {
      await work(server.port);
    } finally {
      await server.stop();
      took[kind] = `${((Date.now() - t) / 1000).toFixed(0)} s`;
    }
    return file;
  };
  for (let round = 0; round < ROUNDS; round++) {
    const r = load.seeded(1000 + round);
    const set = round < TRAIN_ROUNDS ? 'train' : 'validation';
    // The three servers at once, as on one host; each its own trace.
    const files = await Promise.all([
      traced('ssh', `normal-r${round}-ssh`, (port) => load.sshNormal(port, r, 14, clientDir)),
      traced('ftp', `normal-r${round}-ftp`, (port) => load.ftpNormal(port, 2000 + round, 16)),
      traced('web', `normal-r${round}-web`, (port) => load.webNormal(port, r, 70)),
    ]);
    for (const f of files) traces.push({ file: relative(RAW, f), set });
    console.error(`traced normal round ${round + 1}/${ROUNDS} (${elapsed()}; ${JSON.stringify(took)})`);
  }
  const stage = (name) => readFileSync(join(here, 'server-traces', name), 'utf8');
  const ATTACKS = {
    'hydra-ftp': ['ftp', (port, r, run) => load.ftpBrute(port, 3000 + run, 24 + r.int(12))],
    'hydra-ssh': ['ssh', (port, r) => load.sshBrute(port, r, 4 + r.int(3), clientDir)],
    webshell: ['web', (port, r, run) => load.webShell(port, r, run)],
    'reverse-shell': ['web', (port, r, run) => load.reverseShell(port, r, run)],
    meterpreter: ['web', (port, r, run) => load.stager(port, r, run, stage)],
    adduser: ['web', (port, r, run) => load.addUser(port, r, run, ws.victim)],
  };
  // Run i of every attack at once (each its own server and trace), to keep the wall time down.
  for (let run = 0; run < RUNS; run++) {
    const files = await Promise.all(
      KINDS.map((kind) => {
        const [server, attack] = ATTACKS[kind];
        const r = load.seeded(5000 + 97 * KINDS.indexOf(kind) + run);
        // The attack alone: every process of its trace is one the attack made the server run.
        return traced(server, `attack-${kind}-${run}`, (port) => attack(port, r, run));
      }),
    );
    for (const [i, f] of files.entries())
      traces.push({ file: relative(RAW, f), set: 'attack', kind: KINDS[i] });
    console.error(`traced attack run ${run + 1}/${RUNS} (${elapsed()})`);
  }
  writeFileSync(
    manifestPath,
    `${JSON.stringify({ rounds: ROUNDS, trainRounds: TRAIN_ROUNDS, runs: RUNS, traces }, null, 1)}\n`,
  );
}

// ---- 2. per-process ADFA files -----------------------------------------------------------
/**
 * The processes of one `strace -f` file but its first (the daemon's listener): pid → numbers.
 * Threads are folded into their process, as the audit log ADFA-LD was recorded from sees
 * them (its pid is the thread group's): a thread is a clone(CLONE_THREAD) child.
 */
function processesOf(path, unknown) {
  const events = parseRecords(readFileSync(path, 'utf8')).filter(
    (r) => r.kind === 'syscall' && r.pid !== undefined,
  );
  const leader = new Map();
  const groupOf = (pid) => leader.get(pid) ?? pid;
  for (const e of events) {
    if (/^clone/.test(e.syscall) && String(e.args).includes('CLONE_THREAD') && /^\d+$/.test(e.ret ?? '')) {
      leader.set(Number(e.ret), groupOf(e.pid));
    }
  }
  const byPid = new Map();
  const root = events[0]?.pid;
  for (const e of events) {
    const nr = syscallNumber(e.syscall, 'x86_64');
    if (nr === undefined) {
      unknown.set(e.syscall, (unknown.get(e.syscall) ?? 0) + 1);
      continue;
    }
    const pid = groupOf(e.pid);
    const calls = byPid.get(pid);
    if (calls === undefined) byPid.set(pid, [nr]);
    else calls.push(nr);
  }
  byPid.delete(root);
  return byPid;
}

function writeAdfa(manifest) {
  rmSync(ADFA, { recursive: true, force: true });
  const unknown = new Map();
  const sets = { train: [], validation: [], ...Object.fromEntries(KINDS.map((k) => [k, []])) };
  let short = 0;
  for (const t of manifest.traces) {
    const dir = t.set === 'attack' ? join(ADFA, 'attack', t.kind) : join(ADFA, t.set);
    mkdirSync(dir, { recursive: true });
    for (const [pid, calls] of processesOf(join(RAW, t.file), unknown)) {
      if (calls.length < MIN_CALLS) {
        short++;
        continue;
      }
      const file = join(dir, `${t.file.replace(/\.strace$/, '')}-${pid}.txt`);
      writeFileSync(file, `${calls.join(' ')}\n`);
      sets[t.set === 'attack' ? t.kind : t.set].push({ file, calls });
    }
  }
  const index = Object.fromEntries(
    Object.entries(sets).map(([k, list]) => [k, list.map((p) => relative(ADFA, p.file))]),
  );
  const facts = { minCalls: MIN_CALLS, short, unknown: [...unknown], index };
  writeFileSync(adfaIndexPath, `${JSON.stringify(facts)}\n`);
  return { sets, unknown, short };
}

/** With --reuse: the ADFA files of the last conversion, when it left out the same short processes. */
function readAdfa() {
  if (!existsSync(adfaIndexPath)) return undefined;
  const facts = JSON.parse(readFileSync(adfaIndexPath, 'utf8'));
  if (facts.minCalls !== MIN_CALLS) return undefined;
  const sets = {};
  for (const [k, files] of Object.entries(facts.index)) {
    sets[k] = files.map((f) => {
      const file = join(ADFA, f);
      return { file, calls: readFileSync(file, 'utf8').trim().split(' ').map(Number) };
    });
  }
  return { sets, unknown: new Map(facts.unknown), short: facts.short };
}

// ---- main ----------------------------------------------------------------------------------
const t0 = Date.now();
const reuse = args.includes('--reuse') && existsSync(manifestPath);
if (!reuse) await traceAll();
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const traceSeconds = (Date.now() - t0) / 1000;
const { sets, unknown, short } = (reuse ? readAdfa() : undefined) ?? writeAdfa(manifest);
if (sets.train.length === 0 || sets.validation.length === 0) throw new Error('no normal process traced');
const scored = [...sets.validation, ...KINDS.flatMap((k) => sets[k])];
stideScores(sets.train, scored);
// ---- 3. the built CLI, as an evaluator runs it (adfa-eval.mjs) ----------------------------
const cost = syscanScores(sets.train, scored, join(DATA, 'baseline.json'));
console.log(
  `ADFA-like proxy from real server traces (${reuse ? 'reused' : 'traced'} in ${DATA}${given ? '' : ', removed at exit'}): ` +
    `${manifest.rounds} normal rounds (${manifest.trainRounds} train), ${manifest.runs} runs per attack; ` +
    `processes with < ${MIN_CALLS} calls left out (${short}); syscall numbers x86_64`,
);
console.log(
  `train ${sets.train.length} processes / ${callsOf(sets.train)} calls; validation ${sets.validation.length} / ${callsOf(sets.validation)}; ` +
    `attack ${KINDS.reduce((n, k) => n + sets[k].length, 0)} / ${KINDS.reduce((n, k) => n + callsOf(sets[k]), 0)}`,
);
if (unknown.size > 0)
  console.log(
    `calls without an x86_64 number (left out): ${[...unknown].map(([n, c]) => `${n} ${c}`).join(', ')}`,
  );
printTable(
  sets.validation,
  KINDS.map((k) => [k, sets[k]]),
);
printUncertainty(
  sets.validation,
  KINDS.map((k) => [k, sets[k]]),
);
printCopies(
  sets.train,
  sets.validation,
  KINDS.flatMap((k) => sets[k]),
);
// As a code index keeps ADFA-LD (one file per content): what the model does on processes it has not seen verbatim.
const unique = withoutRepeats(
  sets.train,
  sets.validation,
  KINDS.map((k) => [k, sets[k]]),
);
if (unique !== undefined) {
  console.log(
    `\nthe same without verbatim repeats (${unique.left} held-out processes identical to a training or an earlier one left out):`,
  );
  printTable(unique.normal, unique.attacks);
  printUncertainty(unique.normal, unique.attacks);
}
console.log(
  `syscan learn ${cost.learnSeconds.toFixed(1)} s, score ${cost.scoreSeconds.toFixed(1)} s (wall, CLI processes), baseline ${(cost.size / 1024).toFixed(0)} KiB; ` +
    `tracing ${reuse ? 'skipped (--reuse)' : `${traceSeconds.toFixed(0)} s`}, total ${((Date.now() - t0) / 1000).toFixed(0)} s`,
);
