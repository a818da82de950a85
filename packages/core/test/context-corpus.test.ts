import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizePath } from '../src/context/paths.js';
import { decodeAuditSockaddr } from '../src/context/sockaddr.js';
import { type ContextTracker, createContextTracker, type SpawnInfo } from '../src/context/tracker.js';
import { parseRecords } from '../src/parse/index.js';
import type { ParsedRecord, SyscallEvent } from '../src/types.js';
import { corpusDir, corpusFiles, hasCorpus } from './helpers/corpus.js';

// Real traces and audit logs from ../shared/corpus; skipped (with a message) without it.

function trackFile(path: string, source: 'strace' | 'audit') {
  const spawns: SpawnInfo[] = [];
  const tracker = createContextTracker({ onSpawn: (s) => spawns.push(s) });
  const records = parseRecords(readFileSync(path, 'utf8'), { source }).map((r) => tracker.observe(r));
  const calls = records.filter((r): r is SyscallEvent => r.kind === 'syscall');
  return { tracker, records, calls, spawns };
}

const strace = (name: string) => trackFile(join(corpusDir, 'strace', name), 'strace');
const audit = (name: string) => trackFile(join(corpusDir, 'audit', name), 'audit');

describe.skipIf(!hasCorpus)('context on the strace corpus', () => {
  it('cat-y.log: -y decorations give fd paths and the cwd, set_tid_address the pid', () => {
    const { calls } = strace('cat-y.log');
    const target = calls.find((e) => e.syscall === 'openat' && e.paths?.[0] === '/etc/os-release');
    expect(target?.process).toMatchObject({
      pid: 15488,
      exe: '/usr/bin/cat',
      comm: 'cat',
      cwd: '/tmp/syscan-demo',
    });
    expect(target?.process?.argv).toEqual(['cat', '/etc/os-release']);
    // Calls on the fd name what -y shows: the file the kernel opened (the symlink followed).
    const read = calls.find((e) => e.syscall === 'read' && e.line === 112);
    expect(read?.paths).toEqual(['/usr/lib/os-release']);
    // ld.so maps libc through its fd: the -y path is the file the kernel found.
    const mmap = calls.find((e) => e.syscall === 'mmap' && e.paths?.[0]?.endsWith('libc.so.6'));
    expect(mmap?.paths).toEqual(['/usr/lib/x86_64-linux-gnu/libc.so.6']);
  });

  it('curl-loopback-yy.log: connect and sendto carry the TCP peer and the local port', () => {
    const { calls } = strace('curl-loopback-yy.log');
    const connect = calls.find((e) => e.syscall === 'connect' && e.peer?.family === 'inet');
    expect(connect?.peer).toEqual({ family: 'inet', address: '127.0.0.1', port: 18765, protocol: 'tcp' });
    const send = calls.find((e) => e.syscall === 'sendto' && e.peer?.port === 18765);
    expect(send?.local).toEqual({ family: 'inet', address: '127.0.0.1', port: 47882, protocol: 'tcp' });
    const nscd = calls.find((e) => e.syscall === 'connect' && e.peer?.family === 'unix');
    expect(nscd?.peer).toEqual({ family: 'unix', path: '/var/run/nscd/socket' });
  });

  it('python-f.log: clone3 threads share their process; the -s cut argv is marked', () => {
    const { calls, spawns } = strace('python-f.log');
    expect(spawns.map((s) => [s.child, s.thread])).toEqual([
      [15549, true],
      [15550, true],
      [15551, true],
    ]);
    const threadOpens = calls.filter((e) => e.syscall === 'openat' && e.paths?.[0] === '/etc/hostname');
    expect(threadOpens.map((e) => e.pid).sort()).toEqual([15549, 15550, 15551]);
    for (const e of threadOpens) {
      expect(e.process).toBe(threadOpens[0]!.process);
      expect(e.process).toMatchObject({ pid: 15548, exe: '/usr/bin/python3', argvTruncated: true });
    }
  });

  it('sh-pipeline-f.log: the pipeline stages are children of the shell with their own argv', () => {
    const { calls, tracker } = strace('sh-pipeline-f.log');
    const execs = calls.filter((e) => e.syscall === 'execve' && e.ret === '0');
    const byComm = new Map(execs.map((e) => [e.process!.comm, e.process!]));
    expect(byComm.get('tr')).toMatchObject({ ppid: 15638, argv: ['tr', 'a-z', 'A-Z'] });
    expect(byComm.get('wc')).toMatchObject({ ppid: 15638, argv: ['wc', '-c'] });
    expect(tracker.ancestors(byComm.get('tr')!.pid).map((p) => p.comm)).toEqual(['sh']);
  });

  it('su-nobody.log: the cat denied /etc/shadow runs as nobody, below su', () => {
    const { calls, tracker } = strace('su-nobody.log');
    const denied = calls.find((e) => e.denied && e.paths?.[0] === '/etc/shadow');
    expect(denied?.process).toMatchObject({ comm: 'cat', uid: 65534, euid: 65534 });
    expect(denied?.process?.argv).toEqual(['cat', '/etc/shadow']);
    const names = tracker.ancestors(denied!.process!.pid).map((p) => p.comm);
    expect(names).toContain('su');
  });

  it('eacces-setpriv.log: setresuid/setresgid as shown, the denied path absolute', () => {
    const { calls } = strace('eacces-setpriv.log');
    const denied = calls.find((e) => e.denied && e.syscall === 'openat');
    expect(denied?.paths).toEqual(['/tmp/syscan-demo/root-only.txt']);
    expect(denied?.process).toMatchObject({ comm: 'cat', uid: 65534, euid: 65534, gid: 65534, egid: 65534 });
  });

  it('git-status-yy.log: paths after chdir resolve against the new cwd', () => {
    const { calls } = strace('git-status-yy.log');
    const relative = calls.find((e) => e.syscall === 'newfstatat' && e.args?.includes(', ".git", '));
    expect(relative?.process?.cwd).toBe('/tmp/syscan-demo/repo');
    expect(relative?.paths).toEqual(['/tmp/syscan-demo/repo/.git']);
  });

  it('every trace: every syscall event gets a process, no path stays unnormalised, memory bounded', () => {
    const files = corpusFiles('strace').filter(([rel]) => !rel.endsWith('.md'));
    let withPaths = 0;
    for (const [rel, path] of files) {
      const { calls, tracker } = trackFile(path, 'strace');
      for (const e of calls) {
        expect(e.process, `${rel}:${e.line}`).toBeDefined();
        // Normal form; relative only where the trace never showed the cwd (`.` stays `.`).
        for (const p of e.paths ?? []) expect(normalizePath(p), `${rel}:${e.line}`).toBe(p);
        if (e.paths !== undefined) withPaths++;
      }
      expect(tracker.stats.processes).toBeLessThan(1000);
    }
    expect(withPaths).toBeGreaterThan(1000);
  });
});

describe.skipIf(!hasCorpus)('context on the audit corpus', () => {
  it('laurel record-execve.txt: argv from EXECVE, cwd, PATH names, the host', () => {
    const { calls } = audit('laurel/record-execve.txt');
    const exec = calls.find((e) => e.syscall === 'execve');
    expect(exec?.process).toMatchObject({
      pid: 10884,
      ppid: 10883,
      exe: '/usr/bin/whoami',
      comm: 'whoami',
      argv: ['whoami'],
      cwd: '/home/user/tmp',
      uid: 0,
      auid: 1000,
      ses: 1,
      tty: 'pts1',
    });
    expect(exec?.paths).toEqual(['/usr/bin/whoami', '/lib64/ld-linux-x86-64.so.2']);
    expect(exec?.host).toBe('work');
  });

  it('laurel shell-proc-trace.txt: ppid= builds the process tree', () => {
    const { tracker } = audit('laurel/shell-proc-trace.txt');
    const chain = tracker.ancestors(71508).map((p) => p.pid);
    expect(chain.slice(0, 3)).toEqual([71506, 71505, 71432]);
    expect(tracker.process(71508)?.argv).toEqual(['/bin/echo', 'foo']);
  });

  it('laurel SOCKADDR records decode to peers (little- and big-endian hosts)', () => {
    const hexOf = (name: string) =>
      [...readFileSync(join(corpusDir, 'audit/laurel', name), 'utf8').matchAll(/saddr=([0-9A-F]+)/g)].map(
        (m) => m[1]!,
      );
    const [v4, v6] = hexOf('record-connect.txt');
    expect(decodeAuditSockaddr(v4!)).toEqual({ family: 'inet', address: '127.0.0.1', port: 11211 });
    expect(decodeAuditSockaddr(v6!)).toEqual({ family: 'inet6', address: '::1', port: 11211 });
    // ppc64 (arch=80000015): the family is written big-endian, the tracker says so from arch.
    expect(decodeAuditSockaddr(hexOf('record-bind-ipv4-bigendian.txt')[0]!)).toEqual({
      family: 'inet',
      address: '0.0.0.0',
      port: 55555,
    });
    const { calls } = audit('laurel/record-connect.txt');
    expect(calls[0]?.process).toMatchObject({ pid: 1074252, ppid: 1074250, uid: 48, euid: 48, comm: 'php' });
  });

  // The audit reader hands SOCKADDR over as `audit.saddr`; until a build of it does, this
  // end-to-end check says so and skips (the decoder itself is tested just above).
  const connectLog = hasCorpus ? audit('laurel/record-connect.txt') : undefined;
  const readerKeepsSaddr = connectLog?.calls.some((e) => e.audit?.saddr !== undefined) === true;
  if (hasCorpus && !readerKeepsSaddr)
    console.warn('[syscan] audit reader does not set audit.saddr: SOCKADDR peer test skipped');
  it.skipIf(!readerKeepsSaddr)('laurel record-connect.txt: connect events carry the decoded peer', () => {
    const peers = connectLog!.calls.filter((e) => e.syscall === 'connect').map((e) => e.peer);
    expect(peers).toEqual([
      { family: 'inet', address: '127.0.0.1', port: 11211 },
      { family: 'inet6', address: '::1', port: 11211 },
    ]);
    const bind = audit('laurel/record-bind-ipv4-bigendian.txt').calls.find((e) => e.syscall === 'bind');
    expect(bind?.local).toEqual({ family: 'inet', address: '0.0.0.0', port: 55555 });
  });

  it('every audit log: events with a pid get that process; paths are absolute or honestly relative', () => {
    const files = [...corpusFiles('audit/laurel'), ...corpusFiles('audit/go-libaudit')].filter(
      ([rel]) => !rel.endsWith('.md') && !rel.includes('/'),
    );
    let withProcess = 0;
    for (const [rel, path] of files) {
      let tracker: ContextTracker | undefined;
      let records: ParsedRecord[] = [];
      expect(() => {
        ({ tracker, records } = trackFile(path, 'audit'));
      }, rel).not.toThrow();
      for (const r of records) {
        if (r.kind !== 'syscall' && r.kind !== 'audit') continue;
        if (r.pid !== undefined) {
          expect(r.process?.pid, `${rel}:${r.line}`).toBe(r.pid);
          withProcess++;
        }
        const cwd = r.audit?.cwd;
        for (const p of r.paths ?? [])
          if (cwd?.startsWith('/')) expect(p.startsWith('/'), `${rel}:${r.line} ${p}`).toBe(true);
      }
      expect(tracker!.stats.processes).toBeLessThanOrEqual(32_768);
    }
    expect(withProcess).toBeGreaterThan(100);
  });
});
