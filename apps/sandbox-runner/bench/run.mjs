#!/usr/bin/env node
// The runner's overhead over bare strace, split into what strace's flags and the isolation
// cost and what syscan's reading and judging cost. Each round runs every variant once, in
// an order rotated per round (alternating), on the same syscall-heavy command:
//   bare      strace -f -o /dev/null                      (the reference users compare with)
//   flags     strace -f -q -y -I 4 -e verbose=!%%stat -o /dev/null   (the runner's strace flags)
//   isolated  <bwrap as the runner wraps it> strace -f -q -y -I 4 -o /dev/null
//   written   the same writing its trace to a file: strace 6 formats nothing for -o /dev/null
//             (it makes no write at all), so this is what strace's own output costs
//   runner    syscan-sandbox exec --json                  (the same, trace to a FIFO, judged live)
//   bare-true, runner-true   bare and runner on `true`: the runner's fixed cost per run, in seconds
// Wall time, and CPU time (user+sys of the whole process tree: the bench's reaped children,
// from /proc/self/stat), which the machine's other load disturbs far less than wall time.
// Ratios are per round (runner/bare of the same round), then median [min–max].
//
// Usage: node bench/run.mjs [rounds]   (build first: the runner is dist/bin.mjs)
//   BENCH_PIN=1          everything on CPU 0 (taskset -c 0)
//   BENCH_ITERATIONS=N   syscalls per run (default 200000)
//   BENCH_WORKLOAD=strings  pread of a binary file and stat of a long path instead of stat("/"):
//                        the calls whose strings strace cuts at -s
//   BENCH_STRINGS=256    adds `runner -s N` (and `flags -s N`): what a longer string limit costs
//   BENCH_BASELINE_BIN=F adds `runner-base`: another build of the runner (before/after, same rounds)
//   BENCH_CPUS=LIST      adds `runner-cpus` (exec --cpus LIST) and `bare-cpus` (taskset -c LIST strace -f):
//                        ptrace's stops kept on those CPUs, against bare strace unpinned and pinned alike
//   BENCH_VARIANTS=a,b   only these variants (also: runner-noiso, the runner with --isolation none)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../dist/bin.mjs', import.meta.url));
if (!existsSync(bin)) {
  console.error('bench: dist/bin.mjs missing; run `pnpm build` (tsup) first');
  process.exit(2);
}
const rounds = Number(process.argv[2] ?? 5);
// The real interpreter, not a version-manager shim: the shim's own startup would dominate.
const py = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], {
  encoding: 'utf8',
}).stdout.trim();
const straceBin = spawnSync('sh', ['-c', 'command -v strace'], { encoding: 'utf8' }).stdout.trim();
const bwrap = spawnSync('sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).stdout.trim();
if (!py || !straceBin) {
  console.error('bench: python3 and strace are needed');
  process.exit(2);
}
// ptrace stops cost ~25-100 µs each in a VM: 200k calls take seconds.
const iterations = Number(process.env.BENCH_ITERATIONS ?? 200000);
const workload = process.env.BENCH_WORKLOAD ?? 'stat';
const scripts = {
  stat: `import os\nfor _ in range(${iterations}): os.stat("/")`,
  // read() data and paths are the strings -s cuts (strace's own binary, escaped: up to 4 bytes a byte).
  strings: `import os, sys\nfd = os.open(${JSON.stringify(straceBin)}, os.O_RDONLY)\np = "/usr/share/zoneinfo/../../share/zoneinfo/right/America/Argentina/Buenos_Aires"\nfor i in range(${Math.floor(iterations / 2)}):\n  os.pread(fd, 4096, (i % 64) * 4096)\n  try: os.stat(p)\n  except OSError: pass`,
};
if (!(workload in scripts)) {
  console.error(`bench: BENCH_WORKLOAD is one of ${Object.keys(scripts).join(', ')}`);
  process.exit(2);
}
const command = [py, '-c', scripts[workload]];
const pin = process.env.BENCH_PIN === '1' ? ['taskset', '-c', '0'] : [];
// As src/exec/strace-args.ts runs strace (keep in step).
const runnerFlags = ['-f', '-q', '-y', '-I', '4', '-e', 'verbose=!%%stat'];
// As src/exec/isolation.ts wraps strace with bwrap (keep in step).
const bwrapArgs = [
  '--unshare-user',
  '--unshare-pid',
  '--die-with-parent',
  '--as-pid-1',
  ...(process.getuid?.() === 0 ? ['--cap-drop', 'ALL'] : []),
  '--dev-bind',
  '/',
  '/',
  '--proc',
  '/proc',
  '--tmpfs',
  '/proc/1',
  '--',
];

// `-s N` for the runner: an strace that adds it (the runner finds strace on PATH), compiled,
// since the runner runs strace from an execute-only copy, which a script cannot be.
const scratch = mkdtempSync(join(tmpdir(), 'syscan-bench-'));
const strings = Number(process.env.BENCH_STRINGS ?? 0);
if (strings > 0) {
  const source = join(scratch, 'strace.c');
  writeFileSync(
    source,
    `#include <unistd.h>\n#include <stdlib.h>\nint main(int argc, char **argv) {\n  char **a = calloc(argc + 3, sizeof *a);\n  a[0] = argv[0]; a[1] = "-s"; a[2] = "${strings}";\n  for (int i = 1; i < argc; i++) a[i + 2] = argv[i];\n  execv(${JSON.stringify(straceBin)}, a);\n  return 127;\n}\n`,
  );
  const cc = spawnSync('cc', ['-O2', '-o', join(scratch, 'strace'), source], { encoding: 'utf8' });
  if (cc.status !== 0) {
    console.error(`bench: BENCH_STRINGS needs a C compiler (cc): ${cc.error?.message ?? cc.stderr}`);
    process.exit(2);
  }
}

const variants = {
  bare: { argv: [straceBin, '-f', '-o', '/dev/null', '--', ...command] },
  flags: { argv: [straceBin, ...runnerFlags, '-o', '/dev/null', '--', ...command] },
  isolated: bwrap
    ? { argv: [bwrap, ...bwrapArgs, straceBin, ...runnerFlags, '-o', '/dev/null', '--', ...command] }
    : undefined,
  written: bwrap
    ? {
        argv: [
          bwrap,
          ...bwrapArgs,
          straceBin,
          ...runnerFlags,
          '-o',
          join(scratch, 'trace'),
          '--',
          ...command,
        ],
      }
    : undefined,
  runner: { argv: [process.execPath, bin, 'exec', '--json', '--', ...command], runner: true },
  // The same on `true`: what a run costs whatever the command does (node's start, the probes,
  // the spawns, the teardown), against strace's own on `true`.
  'bare-true': { argv: [straceBin, '-f', '-o', '/dev/null', '--', 'true'] },
  'runner-true': {
    argv: [process.execPath, bin, 'exec', '--json', '--', 'true'],
    runner: true,
    trivial: true,
  },
  'runner-noiso': {
    argv: [process.execPath, bin, 'exec', '--json', '--isolation', 'none', '--', ...command],
    runner: true,
  },
  ...(process.env.BENCH_CPUS
    ? {
        'bare-cpus': {
          argv: [
            'taskset',
            '-c',
            process.env.BENCH_CPUS,
            straceBin,
            '-f',
            '-o',
            '/dev/null',
            '--',
            ...command,
          ],
        },
        'runner-cpus': {
          argv: [process.execPath, bin, 'exec', '--json', '--cpus', process.env.BENCH_CPUS, '--', ...command],
          runner: true,
        },
      }
    : {}),
  // BENCH_BASELINE_BIN=path/to/an/older/bin.mjs: before/after in the same rounds.
  ...(process.env.BENCH_BASELINE_BIN
    ? {
        'runner-base': {
          argv: [process.execPath, process.env.BENCH_BASELINE_BIN, 'exec', '--json', '--', ...command],
          runner: true,
        },
      }
    : {}),
  ...(strings > 0
    ? {
        [`flags-s${strings}`]: {
          argv: [straceBin, ...runnerFlags, '-s', String(strings), '-o', '/dev/null', '--', ...command],
        },
        [`runner-s${strings}`]: {
          argv: [process.execPath, bin, 'exec', '--json', '--', ...command],
          runner: true,
          env: { ...process.env, PATH: `${scratch}:${process.env.PATH}` },
        },
      }
    : {}),
};
const defaults = ['bare', 'flags', 'isolated', 'written', 'runner', 'bare-true', 'runner-true'];
if (process.env.BENCH_BASELINE_BIN) defaults.push('runner-base');
if (process.env.BENCH_CPUS) defaults.push('bare-cpus', 'runner-cpus');
if (strings > 0) defaults.push(`flags-s${strings}`, `runner-s${strings}`);
const wanted = (process.env.BENCH_VARIANTS ?? defaults.join(',')).split(',').filter((name) => {
  if (variants[name]) return true;
  console.error(`bench: skipping ${name} (${name in variants ? 'bwrap is not installed' : 'unknown'})`);
  return false;
});

/** CPU seconds of the bench's reaped children (their whole trees): utime+stime, cutime+cstime of /proc/self/stat. */
function childrenCpu() {
  const stat = readFileSync('/proc/self/stat', 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the comm: state is field 3, so cutime (16) and cstime (17) are at 13 and 14.
  return (Number(f[13]) + Number(f[14])) / 100; // USER_HZ
}

function time(name) {
  const v = variants[name];
  const cpu0 = childrenCpu();
  const t = process.hrtime.bigint();
  const [file, ...args] = [...pin, ...v.argv];
  const r = spawnSync(file, args, {
    stdio: ['ignore', v.runner ? 'pipe' : 'ignore', 'pipe'],
    maxBuffer: 1 << 26,
    env: v.env ?? process.env,
  });
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  const cpu = childrenCpu() - cpu0;
  if (r.status !== 0) throw new Error(`${name} exited ${r.status ?? r.signal}: ${r.stderr}`);
  let traceBytes;
  if (v.runner) {
    // A run that judged less than the command did would be cheap for the wrong reason.
    const result = JSON.parse(r.stdout.toString('utf8'));
    traceBytes = result.trace.bytes;
    const least = v.trivial ? 1 : iterations;
    if (result.verdict !== 'clean' || result.events < least || result.trace.linesLost !== 0)
      throw new Error(
        `${name}: verdict ${result.verdict}, ${result.events} events, ${result.trace.linesLost} lines lost`,
      );
  }
  return { wall, cpu, traceBytes };
}

const results = Object.fromEntries(wanted.map((n) => [n, []]));
try {
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < wanted.length; k++) {
      const name = wanted[(round + k) % wanted.length];
      results[name].push(time(name));
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const range = (xs, digits) =>
  `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}]`;
const load = readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ');
console.log(
  `command: python3, ${iterations} calls (${workload}), ${rounds} rounds of alternating runs${pin.length ? ', all pinned to CPU 0' : ', unpinned'}; load average after: ${load}`,
);
// Read by node at every start, before any of the runner's code (~50 ms of CPU on a 2-core VM):
// the runner pays it and strace does not. Said, not unset: it is the user's environment.
if (process.env.NODE_EXTRA_CA_CERTS)
  console.log('note: NODE_EXTRA_CA_CERTS is set: node loads those certificates at every start (runner only)');
console.log(
  `${'variant'.padEnd(14)} ${'wall s: median [range]'.padEnd(26)} ${'cpu s (user+sys, tree)'.padEnd(26)} trace`,
);
for (const name of wanted) {
  const wall = range(
    results[name].map((x) => x.wall),
    2,
  );
  const cpu = range(
    results[name].map((x) => x.cpu),
    2,
  );
  const bytes = results[name][0].traceBytes;
  const trace =
    bytes === undefined ? '' : `${(median(results[name].map((x) => x.traceBytes)) / 1e6).toFixed(1)} MB`;
  console.log(`${name.padEnd(14)} ${wall.padEnd(26)} ${cpu.padEnd(26)} ${trace}`);
}
const ratios = (a, b) =>
  ['wall', 'cpu'].map((k) =>
    range(
      results[a].map((x, i) => x[k] / results[b][i][k]),
      3,
    ),
  );
const pairs = [
  ['runner', 'bare', 'goal ≤ 1.10'],
  ['runner', 'isolated', "syscan's reading and judging, the FIFO and its own startup"],
  ['written', 'isolated', 'strace formatting and writing the trace (one write per line)'],
  ['runner', 'written', "syscan's reading and judging, the FIFO and its own startup, strace's output aside"],
  ['isolated', 'flags', 'the isolation'],
  ['flags', 'bare', "the runner's strace flags"],
  ['runner-noiso', 'flags', 'syscan without isolation'],
  ['runner-cpus', 'bare-cpus', 'exec --cpus against strace on the same CPUs'],
  ['runner-cpus', 'bare', 'exec --cpus against bare strace as users run it'],
  ['runner', 'runner-base', 'this build against BENCH_BASELINE_BIN'],
  ['runner-base', 'bare', 'BENCH_BASELINE_BIN against bare strace'],
  [`runner-s${strings}`, 'runner', `-s ${strings} in the runner`],
  [`flags-s${strings}`, 'flags', `-s ${strings} in strace alone`],
];
if (results['runner-true'] && results['bare-true'] && results.bare) {
  // Seconds, not a ratio: a fixed cost, paid once per run however long the command runs.
  const fixed = (k) => results['runner-true'].map((x, i) => x[k] - results['bare-true'][i][k]);
  const share = (k) => fixed(k).map((d, i) => d / results.bare[i][k]);
  console.log(
    `fixed cost of a run (runner-true − bare-true): wall ${range(fixed('wall'), 3)} s, cpu ${range(fixed('cpu'), 3)} s; as a share of bare: wall ${range(share('wall'), 3)}, cpu ${range(share('cpu'), 3)}`,
  );
}
console.log('ratio (per round)      wall: median [range]      cpu: median [range]');
for (const [a, b, what] of pairs) {
  if (!results[a] || !results[b]) continue;
  const [w, c] = ratios(a, b);
  console.log(`${`${a}/${b}`.padEnd(22)} ${w.padEnd(25)} ${c.padEnd(24)} ${what}`);
}
