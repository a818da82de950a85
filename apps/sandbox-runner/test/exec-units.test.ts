/** Unit tests of the runner's pieces: strace's command line, isolation, setup errors, the FIFO, kills, results, policies. */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AlertGroup, createSession, isResolvedDetectorConfig, type SyscanError } from '@syscan/core';
import { afterAll, describe, expect, it } from 'vitest';
import { killTree, runMembers, waitGone } from '../src/exec/enforce.js';
import { Enforcement } from '../src/exec/enforcement.js';
import { resolveIsolation, wrapperArgs } from '../src/exec/isolation.js';
import { loadPolicy } from '../src/exec/policy.js';
import {
  MAX_WAIT_MS,
  MIN_WAIT_MS,
  NEARLY_FULL_BYTES,
  ReadPace,
  TARGET_READ_BYTES,
} from '../src/exec/read-pace.js';
import { commandStatus, reportedAlert } from '../src/exec/result.js';
import { classifySetupFailure, setupKind } from '../src/exec/setup-errors.js';
import { commandLine } from '../src/exec/spawn.js';
import { envArgs, straceArgs, toolEnv } from '../src/exec/strace-args.js';
import { ForeignLineCounter, makeTraceFifo, readTrace } from '../src/exec/trace.js';
import { alive } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sandbox-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('strace command line', () => {
  it('follows forks, keeps exit lines, blocks fatal signals, writes to the FIFO', () => {
    const args = straceArgs('/tmp/x/trace', ['ls', '-l'], [], { PATH: '/bin' });
    expect(args.slice(0, 7)).toEqual(['-f', '-q', '-y', '-I', '4', '-o', '/tmp/x/trace']);
    expect(args).not.toContain('-qq');
    // The stat family's result struct is left undecoded (nothing reads it); its path is not.
    expect(args.slice(7, 9)).toEqual(['-e', 'verbose=!%%stat']);
    expect(args.slice(-3)).toEqual(['--', 'ls', '-l']);
  });

  it('refuses preempted calls at entry with EPERM and SIGKILL', () => {
    const args = straceArgs('/f', ['true'], ['personality', 'ptrace'], {});
    expect(args).toContain('inject=?personality,?ptrace:error=EPERM:signal=SIGKILL');
  });

  it('with only some calls allowed, refuses every other at entry, and names no call twice', () => {
    const args = straceArgs('/f', ['true'], ['kcmp', 'ptrace'], {}, ['execve', 'kcmp', 'read']);
    expect(args).toContain('inject=!?execve,?kcmp,?read:error=EPERM:signal=SIGKILL');
    // ptrace is refused by the negation already; kcmp, allowed as a call, is still forbidden.
    expect(args).toContain('inject=?kcmp:error=EPERM:signal=SIGKILL');
    expect(args.filter((a) => a.startsWith('inject='))).toHaveLength(2);
  });

  it('gives the env to the command only (-E), removing what the tools carry unless asked for', () => {
    expect(envArgs({ LD_PRELOAD: '/x.so', A: 'b=c' })).toEqual([
      '-E',
      'PATH',
      '-E',
      'PWD',
      '-E',
      'LD_PRELOAD=/x.so',
      '-E',
      'A=b=c',
    ]);
    expect(envArgs({ PATH: '/bin', PWD: '/w' })).toEqual(['-E', 'PATH=/bin', '-E', 'PWD=/w']);
    expect(envArgs({ 'BAD=NAME': 'x', GONE: undefined })).toEqual(['-E', 'PATH', '-E', 'PWD']);
    // strace and the isolation tool get PATH alone: no LD_PRELOAD, nothing of the request.
    expect(toolEnv({ PATH: '/p', LD_PRELOAD: '/x.so' })).toEqual({ PATH: '/p' });
  });
});

describe('monitor mode with only the baseline allowed', () => {
  it("counts the calls it would have refused, by name, and not the summary's (other)", () => {
    const policy = new Enforcement({
      enforce: false,
      dryRun: true,
      failOn: 'medium',
      refusedAtEntry: () => ['ptrace'],
      onlyAllowedAtEntry: () => ['read', 'write'],
    });
    expect(policy.refusesAtEntry('socket')).toBe(true);
    expect(policy.refusesAtEntry('read')).toBe(false);
    const report = policy.report({ read: 9, socket: 2, ptrace: 1, '(other)': 40 });
    expect(report.refusableCalls).toEqual({ socket: 2, ptrace: 1 });
    expect(report.wouldAllowOnly).toEqual(['read', 'write']);
    expect(report.wouldRefuseAtEntry).toEqual(['ptrace']);
  });
});

describe('isolation', () => {
  it('bwrap: own user and PID namespace, private /proc with /proc/1 covered, strace as PID 1', () => {
    const { args } = wrapperArgs({ mode: 'namespaces', tool: 'bwrap', bwrap: '/usr/bin/bwrap' });
    for (const flag of ['--unshare-user', '--unshare-pid', '--as-pid-1', '--die-with-parent'])
      expect(args).toContain(flag);
    expect(args.join(' ')).toContain('--proc /proc --tmpfs /proc/1');
    expect(args.at(-1)).toBe('--');
  });

  it('unshare: forks PID 1, kills it with unshare, mounts /proc and covers /proc/1', () => {
    const { args } = wrapperArgs({
      mode: 'namespaces',
      tool: 'unshare',
      unshare: '/usr/bin/unshare',
      sh: '/bin/sh',
      mount: '/bin/mount',
      setpriv: '/usr/bin/setpriv',
      env: '/usr/bin/env',
    });
    for (const flag of ['--user', '--pid', '--fork', '--kill-child', '--mount', '--mount-proc'])
      expect(args).toContain(flag);
    expect(args.join(' ')).toContain('/proc/1');
    expect(args.join(' ')).toContain('env -i PATH="$PATH"');
    // No capabilities for strace and the command: the cover over /proc/1 stays.
    expect(args.join(' ')).toContain('setpriv --bounding-set=-all --inh-caps=-all --no-new-privs');
  });

  it('none is none; a missing tool is isolation_unavailable, one line naming the way out', () => {
    expect(resolveIsolation('none')).toEqual({ mode: 'none' });
    const path = process.env.PATH;
    process.env.PATH = dir;
    try {
      let error: SyscanError | undefined;
      try {
        resolveIsolation('auto');
      } catch (e) {
        error = e as SyscanError;
      }
      expect(setupKind(error)).toBe('isolation_unavailable');
      expect(error?.message).not.toContain('\n');
      expect(error?.message).toContain('--isolation none');
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('the run command line', () => {
  const req = { argv: ['ls'], env: { PATH: '/bin', LD_PRELOAD: '/x.so' } };
  it('isolated: the tool, then strace (absolute), then the command with its env as -E', () => {
    const { file, args } = commandLine(
      { mode: 'namespaces', tool: 'bwrap', bwrap: '/b/bwrap' },
      '/s/strace',
      '/f',
      req,
      [],
    );
    expect(file).toBe('/b/bwrap');
    const at = args.indexOf('/s/strace');
    expect(args[at - 1]).toBe('--');
    expect(args.slice(at + 1, at + 3)).toEqual(['-f', '-q']);
    expect(args).toContain('LD_PRELOAD=/x.so');
    expect(args.slice(-2)).toEqual(['--', 'ls']);
  });
  it('not isolated: strace itself', () => {
    expect(commandLine({ mode: 'none' }, '/s/strace', '/f', req, []).file).toBe('/s/strace');
  });
});

describe('setup errors carry a typed reason, not a string in cause', () => {
  it.each([
    ["strace: Can't stat 'nope': No such file or directory", 'command_not_found'],
    ['strace: exec: Permission denied', 'exec_failed'],
    [
      '/usr/bin/strace: test_ptrace_get_syscall_info: PTRACE_TRACEME: Operation not permitted',
      'ptrace_denied',
    ],
    ['strace: something else', 'strace_failed'],
    ['bwrap: No permissions to creating new namespace', 'isolation_unavailable'],
  ])('%s', (line, reason) => {
    const error = classifySetupFailure(`noise\n${line}\n`, 'nope');
    expect(error?.reason).toBe(reason);
    expect(error?.cause).toBeUndefined();
    expect(setupKind(error)).toBe(reason);
  });

  it('ignores stderr that is not a tool complaint', () => {
    expect(classifySetupFailure('the command said strace: no\n', 'x')).toBeUndefined();
  });
});

describe('trace FIFO', () => {
  it('reads what strace writes, in chunks, and removes the path once opened', async () => {
    const trace = await makeTraceFifo();
    expect(statSync(trace.fifo).isFIFO()).toBe(true);
    expect(statSync(trace.fifo).mode & 0o777).toBe(0o600);
    let resolveExit: (v: unknown) => void = () => {};
    const exited = new Promise((r) => (resolveExit = r));
    const chunks: string[] = [];
    let openedAt: boolean | undefined;
    const reading = readTrace(
      trace,
      exited,
      () => (openedAt = true),
      (b) => chunks.push(Buffer.from(b).toString()),
    );
    const fd = openSync(trace.fifo, 'w');
    writeSync(fd, '1 read(0, "", 1) = 0\n');
    closeSync(fd);
    resolveExit(undefined);
    const end = await reading;
    expect(openedAt).toBe(true);
    expect(end).toMatchObject({ opened: true, chunks: 1 });
    expect(chunks.join('')).toBe('1 read(0, "", 1) = 0\n');
    expect(existsSync(trace.dir)).toBe(false);
  });

  it('returns when the writer dies before opening it (no hang)', async () => {
    const trace = await makeTraceFifo();
    const end = await readTrace(
      trace,
      Promise.resolve(),
      () => {},
      () => {},
    );
    expect(end.chunks).toBe(0);
    await trace.remove();
    expect(existsSync(trace.dir)).toBe(false);
  });
});

describe('read pace', () => {
  it('sleeps longer while reads find little, never past the bound on how late an alert is seen', () => {
    const pace = new ReadPace();
    const waits = [1, 100, 100, 100, 100, 100, 100].map((n) => pace.next(n));
    // At most doubling per read, from the shortest pause up to the longest.
    expect(waits).toEqual([4, 8, 16, MAX_WAIT_MS, MAX_WAIT_MS, MAX_WAIT_MS, MAX_WAIT_MS]);
    expect(Math.max(...waits)).toBeLessThanOrEqual(MAX_WAIT_MS);
  });

  it('aims each read at half the pipe from the rate it saw, and reads at once when it was nearly full', () => {
    const pace = new ReadPace();
    expect(pace.next(TARGET_READ_BYTES / 4)).toBe(2 * MIN_WAIT_MS); // a quarter: wait longer (at most 2x)
    expect(pace.next(TARGET_READ_BYTES)).toBe(2 * MIN_WAIT_MS); // on target: keep the pace
    expect(pace.next(TARGET_READ_BYTES + TARGET_READ_BYTES / 3)).toBe(3); // faster: shorter
    expect(pace.next(NEARLY_FULL_BYTES)).toBe(0); // strace may have waited: no pause at all
    expect(pace.next(TARGET_READ_BYTES * 1.25)).toBe(MIN_WAIT_MS); // and on from the shortest pause
  });
});

describe('foreign trace lines', () => {
  it('counts lines strace cannot have written (no pid first), across chunk boundaries', () => {
    const c = new ForeignLineCounter();
    const b = (s: string) => Buffer.from(s);
    expect(c.scan(b('12 read(0, "", 1) = 0\n12 +++ exited with 0 +++\n'))).toBe(0);
    expect(c.scan(b('AAAA'))).toBe(1);
    expect(c.scan(b('AAAA12 personality(0xffffffff) = 0\n'))).toBe(0); // the same line, continued
    expect(c.scan(b('13 getpid() = 13\n\nx'))).toBe(2); // an empty line and `x`
    expect(c.count).toBe(3);
  });
});

describe('kill tree', () => {
  function started(script: string): Promise<{ child: ChildProcess; firstLine: string }> {
    const child = spawn('sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    return new Promise((resolve) =>
      child.stdout!.once('data', (d: Buffer) => resolve({ child, firstLine: d.toString().trim() })),
    );
  }

  it('kills the group and a member that left it (job control), and waits until all are gone', async () => {
    const { child, firstLine } = await started('set -m; sleep 100 & echo $!; sleep 100 & wait');
    const pgid = child.pid!;
    const moved = Number(firstLine);
    expect(runMembers(pgid)).toContain(moved);
    killTree({ pgid, hostPids: [moved] });
    expect(await waitGone({ pgid, hostPids: [moved] })).toBe(true);
    expect(runMembers(pgid)).toEqual([]);
    expect(alive(moved)).toBe(false);
  });
});

describe('result building', () => {
  const spawnedExit = { code: 9, signal: null };
  const exit = (over: object) => ({ kind: 'exit' as const, source: 'strace' as const, raw: '', ...over });

  it('the command status comes from its exit line, not from strace as PID 1', () => {
    expect(commandStatus({ killed: null, mainExit: exit({ exitCode: 3 }), spawnedExit })).toEqual({
      exitCode: 3,
      signal: null,
      status: 3,
    });
    expect(commandStatus({ killed: null, mainExit: exit({ signal: 'SIGSEGV' }), spawnedExit }).status).toBe(
      139,
    );
    expect(
      commandStatus({ killed: { reason: 'timeout', message: 't' }, mainExit: undefined, spawnedExit }),
    ).toEqual({ exitCode: null, signal: 'SIGKILL', status: 137 });
    expect(commandStatus({ killed: null, mainExit: undefined, spawnedExit }).status).toBe(9);
  });

  it('an alert group becomes one reported alert: first occurrence, group severity and count', () => {
    const first = { type: 'total_rate' as const, severity: 'medium' as const, message: 'rate 10', count: 10 };
    const group: AlertGroup = {
      type: 'total_rate',
      syscall: undefined,
      rule: undefined,
      severity: 'high',
      message: 'rate 10',
      alerts: 3,
      events: 60,
      targets: [],
      first,
      last: { ...first, message: 'rate 30', count: 30 },
    };
    expect(reportedAlert(group)).toMatchObject({
      severity: 'high',
      occurrences: 3,
      message: 'rate 30',
      count: 30,
    });
  });
});

describe('policy loading', () => {
  const write = (name: string, json: unknown): string => {
    const file = join(dir, name);
    writeFileSync(file, typeof json === 'string' ? json : JSON.stringify(json));
    return file;
  };

  it('the default policy is resolved once, on the clock', () => {
    const p = loadPolicy();
    expect(isResolvedDetectorConfig(p.config)).toBe(true);
    expect(p.config.timeSource).toBe('clock');
    expect(p.source).toBe('default policy');
  });

  it('a learned baseline as the policy still refuses dangerous calls at entry, either spelling', () => {
    for (const [name, json] of [
      ['camel.json', { baselineSyscalls: ['read'] }],
      ['snake.json', { baseline_syscalls: ['read'] }],
    ] as const) {
      const session = createSession({ config: loadPolicy(write(name, json)).config });
      expect(session.refusedAtEntry('high')).toContain('personality');
    }
  });

  it('--baseline composes with the policy: its baseline wins, forbidden calls stay forbidden', () => {
    const baseline = write('baseline.json', { baseline_syscalls: ['read', 'reboot'] });
    const p = loadPolicy(undefined, baseline);
    expect(p.config.baselineSyscalls).toEqual(['read', 'reboot']);
    expect(p.config.forbiddenSyscalls).toContain('reboot');
    expect(p.source).toContain('baseline');
  });

  it('bad files are one line naming the file', () => {
    expect(() => loadPolicy(write('bad.json', '{'))).toThrow(/^policy .*bad\.json is not valid JSON/);
    expect(() => loadPolicy(write('arr.json', []))).toThrow(/must be a JSON object/);
    expect(() => loadPolicy(write('typo.json', { maxTotalEventsPerMinut: 1 }))).toThrow(/did you mean/);
    expect(() => loadPolicy(join(dir, 'missing.json'))).toThrow(/cannot read policy .*ENOENT/);
  });
});
