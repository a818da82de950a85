import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContextTracker, type SpawnInfo } from '../src/context/tracker.js';
import { parseRecords } from '../src/parse/index.js';
import type { SyscallEvent } from '../src/types.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;
const hasPython = spawnSync('python3', ['-c', 'pass']).status === 0;
if (!hasStrace || !hasPython) console.warn('[syscan] strace or python3 missing: live context tests skipped');

/**
 * The traced program: chdirs, opens a relative path, forks; the child chdirs again, opens
 * `../data.txt`, connects to the test's server on 127.0.0.1, then execs `cat /etc/hostname`.
 */
const SCRIPT = `
import os, socket, sys
port, home = int(sys.argv[1]), sys.argv[2]
os.chdir(home)
open('sub/../data.txt').read()
pid = os.fork()
if pid == 0:
    os.chdir('sub')
    open('../data.txt').read()
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(b'hello')
    s.close()
    os.execv('/bin/cat', ['cat', '/etc/hostname'])
os.waitpid(pid, 0)
`;

describe.skipIf(!hasStrace || !hasPython)('context from a real strace -f trace', () => {
  let dir: string;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'syscan-ctx-')));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'data.txt'), 'data\n');
    writeFileSync(join(dir, 'prog.py'), SCRIPT);
    server = createServer((socket) => socket.resume().on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(() => {
    server?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** Traces the script with extra strace flags; returns the events with context attached. */
  async function traceWith(flags: string[]) {
    const out = join(dir, `trace${flags.join('')}.log`);
    // Async: the server must accept while the traced child connects.
    const { spawn } = await import('node:child_process');
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        'strace',
        ['-f', ...flags, '-o', out, 'python3', join(dir, 'prog.py'), String(port), dir],
        {
          stdio: 'ignore',
        },
      );
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`strace exited with ${code}`))));
    });
    const spawns: SpawnInfo[] = [];
    const tracker = createContextTracker({ onSpawn: (s) => spawns.push(s) });
    const events = parseRecords(readFileSync(out, 'utf8'))
      .map((r) => tracker.observe(r))
      .filter((r): r is SyscallEvent => r.kind === 'syscall');
    return { events, tracker, spawns };
  }

  for (const flags of [[], ['-yy']]) {
    it(`follows fork, chdir, relative opens, connect and exec (strace -f ${flags.join(' ')})`, async () => {
      const { events, tracker, spawns } = await traceWith(flags);
      const catExec = events.find(
        (e) => e.syscall === 'execve' && e.ret === '0' && e.process?.comm === 'cat',
      );
      expect(catExec?.process?.argv).toEqual(['cat', '/etc/hostname']);
      expect(catExec?.process?.exe).toBe('/bin/cat');
      const catPid = catExec!.pid!;
      const parentPid = catExec!.process!.ppid!;
      expect(spawns.some((s) => s.child === catPid && s.parent === parentPid && !s.thread)).toBe(true);
      expect(tracker.process(parentPid)?.argv?.[1]).toBe(join(dir, 'prog.py'));

      // The parent's relative open, resolved against its chdir.
      const opens = events.filter((e) => e.syscall === 'openat' && e.paths?.[0] === join(dir, 'data.txt'));
      expect(opens.map((e) => e.pid)).toEqual([parentPid, catPid]);
      expect(opens[1]!.process?.cwd).toBe(join(dir, 'sub'));
      expect(opens[1]!.process?.comm).toMatch(/^python/);

      // The child's connect and the write on that socket carry the peer.
      const connect = events.find((e) => e.syscall === 'connect' && e.peer?.family === 'inet');
      expect(connect?.peer).toEqual({ family: 'inet', address: '127.0.0.1', port, protocol: 'tcp' });
      const send = events.find(
        (e) => e.pid === catPid && (e.syscall === 'sendto' || e.syscall === 'write') && e.peer,
      );
      expect(send?.peer).toMatchObject({ address: '127.0.0.1', port });

      // cat's own open and read of /etc/hostname, with who did it.
      const catOpen = events.find(
        (e) => e.pid === catPid && e.paths?.[0] === '/etc/hostname' && e.syscall === 'openat',
      );
      expect(catOpen?.process).toMatchObject({ pid: catPid, ppid: parentPid, comm: 'cat', exe: '/bin/cat' });
      const catRead = events.find(
        (e) => e.pid === catPid && e.syscall === 'read' && e.paths?.[0] === '/etc/hostname',
      );
      expect(catRead).toBeDefined();
      expect(tracker.ancestors(catPid)[0]?.pid).toBe(parentPid);
    });
  }
});
