#!/usr/bin/env node
// Live analysis overhead: the runner (strace -f → FIFO → parser → detector) against bare
// `strace -f -o /dev/null` on the same syscall-heavy command, alternating, PAIRS pairs.
// Usage: node bench/run.mjs [pairs]   (build first: the runner is dist/bin.mjs)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../dist/bin.mjs', import.meta.url));
if (!existsSync(bin)) {
  console.error('bench: dist/bin.mjs missing; run `pnpm build` (tsup) first');
  process.exit(2);
}
const pairs = Number(process.argv[2] ?? 5);
// The real interpreter, not a version-manager shim: the shim's own startup would dominate.
const py = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], {
  encoding: 'utf8',
}).stdout.trim();
if (!py) {
  console.error('bench: python3 not found');
  process.exit(2);
}
// BENCH_ITERATIONS: stat calls per run. ptrace stops cost ~100 µs each in a VM, so 200k
// calls take tens of seconds; fewer keep a 5-pair run short.
const iterations = Number(process.env.BENCH_ITERATIONS ?? 200000);
const command = [py, '-c', `import os\nfor _ in range(${iterations}): os.stat("/")`];

function time(argv) {
  const t = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.slice(0, 3).join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

// BENCH_PIN=1 runs both on one CPU (taskset -c 0). In a VM, a ptrace stop whose tracer
// sits on the other CPU costs an inter-processor wake-up, which swings wall time 5x with
// where the scheduler happens to put strace; on one CPU both pay the same, and the runner's
// own parsing is paid in full rather than hidden on the idle core.
const pin = process.env.BENCH_PIN === '1' ? ['taskset', '-c', '0'] : [];
const bare = [];
const runner = [];
for (let i = 0; i < pairs; i++) {
  bare.push(time([...pin, 'strace', '-f', '-o', '/dev/null', '--', ...command]));
  runner.push(time([...pin, process.execPath, bin, 'exec', '--json', '--', ...command]));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = median(bare);
const mr = median(runner);
console.log(
  `command: python3 loop of ${iterations} stat("/") calls, ${pairs} alternating pairs${pin.length ? ', both pinned to CPU 0' : ''}`,
);
console.log(
  `bare strace -f -o /dev/null : median ${mb.toFixed(0)} ms  [${bare.map((x) => x.toFixed(0)).join(', ')}]`,
);
console.log(
  `syscan-sandbox exec --json  : median ${mr.toFixed(0)} ms  [${runner.map((x) => x.toFixed(0)).join(', ')}]`,
);
console.log(`ratio runner/bare: ${(mr / mb).toFixed(3)} (goal ≤ 1.10)`);
