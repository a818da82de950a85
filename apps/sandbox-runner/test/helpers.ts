import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const binPath = join(appDir, 'dist', 'bin.mjs');

/** Why the real-strace tests cannot run here, or undefined when they can. */
function probeStrace(): string | undefined {
  const r = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '--', 'true'], { encoding: 'utf8' });
  if (r.error) return 'strace is not installed (apt-get install strace)';
  if (r.status !== 0)
    return `strace cannot trace here (${r.stderr.trim().split('\n')[0]}): ptrace not permitted`;
  return undefined;
}

export const straceSkipReason = probeStrace();
export const hasStrace = straceSkipReason === undefined;
if (straceSkipReason) console.warn(`sandbox-runner tests skipped: ${straceSkipReason}`);

export const hasPython = spawnSync('python3', ['-c', 'pass']).status === 0;
/** The real interpreter, not a version-manager shim (whose own shell would be traced too). */
export const python = hasPython
  ? spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim()
  : 'python3';
export const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0 && process.getuid?.() === 0;
export const hasBwrap = spawnSync('bwrap', ['--version']).status === 0;
export const hasGcc = spawnSync('gcc', ['--version']).status === 0;
/** Why unprivileged namespaces cannot be made here, or undefined when they can. */
export const namespacesSkipReason = ((): string | undefined => {
  const r = spawnSync('unshare', ['-Urpf', '--mount-proc', 'true'], { encoding: 'utf8' });
  if (r.error) return 'util-linux unshare is not installed';
  return r.status === 0 ? undefined : `no user namespaces here (${r.stderr.trim().split('\n')[0]})`;
})();
export const hasNamespaces = namespacesSkipReason === undefined;
if (namespacesSkipReason) console.warn(`sandbox-runner isolation tests skipped: ${namespacesSkipReason}`);

/** Pids whose process group is `pgid` (zombies included): /proc field 5 of stat. */
export function pidsInGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Host pids whose PID namespace is `ns` (`pid:[…]`): what is left of an isolated run. */
export function pidsInNamespace(ns: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/pid`) === ns && alive(Number(name))) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Nothing of a run is left: no process in its namespace, its group or (without isolation) its pids. */
export function nothingLeft(r: {
  pgid: number | null;
  processes: number[];
  isolation: { mode: string; pidNamespace?: string | undefined };
}): string[] {
  const left: string[] = [];
  if (r.isolation.mode === 'namespaces') {
    // Unknown when the run was over before the runner saw PID 1: the group check below then
    // says it all (PID 1 stays in the tool's group, and the namespace empties before it goes).
    if (r.isolation.pidNamespace)
      for (const pid of pidsInNamespace(r.isolation.pidNamespace))
        left.push(`pid ${pid} in the run's namespace`);
  } else {
    for (const pid of r.processes) if (alive(pid)) left.push(`pid ${pid}`);
  }
  if (r.pgid !== null) for (const pid of pidsInGroup(r.pgid)) left.push(`pid ${pid} in the run's group`);
  return left;
}

/** True while `pid` runs: a zombie has ended (its reaper, maybe a slow host init, removes it in its own time). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The runner's private temp dirs currently present. */
export function sandboxTempDirs(): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith('syscan-sandbox-'));
}

/** Builds dist/bin.mjs when it is missing or older than any source file. */
export function ensureBuilt(): void {
  const built = existsSync(binPath) ? statSync(binPath).mtimeMs : 0;
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  const sources = [
    join(appDir, 'src'),
    join(appDir, '..', '..', 'packages', 'core', 'src'),
    join(appDir, '..', '..', 'packages', 'express-middleware', 'src'),
  ];
  if (built > 0 && sources.every((d) => newest(d) < built)) return;
  const r = spawnSync(join(appDir, '..', '..', 'node_modules', '.bin', 'tsup'), [], {
    cwd: appDir,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`tsup failed: ${r.stderr}`);
}
