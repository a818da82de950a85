import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { compileProbe, traceInto } from './helpers/seccomp-programs.js';

/**
 * The profile in a real container runtime: runc loads it from config.json and starts the
 * traced command under it. Needs root, runc, strace and a C compiler, and a machine where
 * runc can start a container at all (checked first, without seccomp); skipped otherwise.
 */
const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-runc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const has = (cmd: string, arg: string) => spawnSync(cmd, [arg]).status === 0;
const tools =
  process.getuid?.() === 0 && has('runc', '--version') && has('strace', '-V') && has('cc', '--version');
let containers = 0;

/**
 * A bundle whose rootfs is the host's /usr and /etc (read-only) plus the test dir at /t, from
 * `runc spec` minus what a test machine inside a container may not allow (cgroup and sysfs
 * mounts, cgroup and network namespaces, resource limits).
 */
function bundle(seccomp: unknown, noNewPrivileges: boolean, args: string[]): string {
  const b = join(dir, `bundle-${++containers}`);
  mkdirSync(b);
  const spec = spawnSync('runc', ['spec'], { cwd: b, encoding: 'utf8' });
  if (spec.status !== 0) throw new Error(`runc spec: ${spec.stderr}`);
  const config = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
  const rootfs = join(dir, 'rootfs');
  config.root = { path: rootfs, readonly: true };
  config.process.terminal = false;
  config.process.args = args;
  config.process.noNewPrivileges = noNewPrivileges;
  config.mounts = config.mounts
    .filter((m: { type: string }) => m.type !== 'cgroup' && m.type !== 'sysfs')
    .concat(
      ['/usr', '/etc'].map((d) => ({ destination: d, type: 'bind', source: d, options: ['rbind', 'ro'] })),
      [{ destination: '/t', type: 'bind', source: dir, options: ['rbind', 'ro'] }],
    );
  config.linux.namespaces = config.linux.namespaces.filter(
    (n: { type: string }) => n.type !== 'cgroup' && n.type !== 'network',
  );
  delete config.linux.resources;
  if (seccomp !== undefined) config.linux.seccomp = seccomp;
  writeFileSync(join(b, 'config.json'), JSON.stringify(config));
  return b;
}

function runc(seccomp: unknown, noNewPrivileges: boolean, args: string[]) {
  const b = bundle(seccomp, noNewPrivileges, args);
  return spawnSync('runc', ['run', `syscan-test-${process.pid}-${containers}`], {
    cwd: b,
    encoding: 'utf8',
    input: '',
    timeout: 30_000,
  });
}

function canRunContainers(): boolean {
  if (!tools) return false;
  const rootfs = join(dir, 'rootfs');
  for (const d of ['usr', 'etc', 'proc', 'dev', 't']) mkdirSync(join(rootfs, d), { recursive: true });
  for (const l of ['bin', 'lib', 'lib64', 'sbin']) symlinkSync(`usr/${l}`, join(rootfs, l));
  const r = runc(undefined, true, ['/bin/true']);
  return r.status === 0;
}
const live = canRunContainers();

async function profile(name: string, args: string[]): Promise<unknown> {
  const out = join(dir, name);
  const r = await runCli(['seccomp', '--arch-style', 'architectures', ...args, '-o', out]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(readFileSync(out, 'utf8'));
}

describe.skipIf(!live)('runc runs the traced command under its generated profile', () => {
  it('--safe starts it with and without NoNewPrivileges; --minimal lacks what runc itself calls', async () => {
    const t = traceInto(dir, 'cat.strace', ['/bin/cat', '/etc/hostname']);
    const expected = readFileSync('/etc/hostname', 'utf8');
    const safe = await profile('cat-safe.json', ['--safe', t]);
    for (const nnp of [true, false]) {
      const r = runc(safe, nnp, ['/bin/cat', '/etc/hostname']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(expected);
    }
    // runc's init calls fstatfs, capset, … after loading the filter: exactly what --safe is for.
    const minimal = await profile('cat-minimal.json', [t]);
    expect(runc(minimal, true, ['/bin/cat', '/etc/hostname']).status).not.toBe(0);
  });

  it('a call outside the profile fails in the container with the chosen errno', async () => {
    const probe = compileProbe(dir);
    const t = traceInto(dir, 'probe.strace', [probe]);
    const doc = await profile('probe-safe.json', ['--safe', '--errno', 'EHOSTDOWN', t]);
    const inside = ['/t/probe', 'sysinfo'];
    expect(runc(undefined, true, inside).stdout).toBe('probe ran\nsysinfo: ok\n');
    const r = runc(doc, true, inside);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('probe ran\nsysinfo: errno 112 EHOSTDOWN\n');
  });
});

if (!live) {
  describe('seccomp profiles under runc', () => {
    it.skip(
      tools
        ? 'runc cannot start a container on this machine (cgroups, mounts); skipped'
        : 'needs root, runc, strace and cc (apt-get install runc strace gcc); skipped',
      () => {},
    );
  });
}
