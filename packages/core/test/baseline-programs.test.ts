import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Alert,
  type AnomalyVerdict,
  type Baseline,
  BaselineLearner,
  createContextTracker,
  createSession,
  detectorConfigJsonSchema,
  isSyscanError,
  mergeBaselines,
  mergeConfigs,
  parseRecords,
  resolveDetectorConfig,
  SyscallAnomalyDetector,
  type SyscallEvent,
} from '../src/index.js';
import { ev } from './detector-helpers.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;
const hasCc = spawnSync('cc', ['--version']).status === 0;
const tmp = mkdtempSync(join(tmpdir(), 'syscan-programs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const alertsOf = (v: AnomalyVerdict): Alert[] => (v.kind === 'alert' ? v.alerts : []);
const proc = (exe: string | undefined, comm?: string, pid = 1) => ({ pid, exe, comm });

describe('programs config key', () => {
  it('is validated entry by entry, naming the program and the key', () => {
    const bad = (programs: unknown): string => {
      try {
        resolveDetectorConfig({ programs });
      } catch (error) {
        expect(isSyscanError(error)).toBe(true);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad([])).toMatch(/programs must be an object of program/);
    expect(bad({ '/usr/bin/ls': ['read'] })).toMatch(/programs\["\/usr\/bin\/ls"\] must be an object/);
    expect(bad({ ls: {} })).toMatch(/programs\["ls"\]\.baselineSyscalls is missing/);
    expect(bad({ ls: { baselineSyscalls: [1] } })).toMatch(/programs\["ls"\]\.baselineSyscalls\[0\]/);
    expect(bad({ ls: { baselineSyscalls: [], allowedDenials: [{ errno: 'EACCES' }] } })).toMatch(
      /programs\["ls"\]\.allowedDenials\[0\] \.syscall must be a syscall name/,
    );
    expect(bad({ ls: { baselineSyscalls: [], extra: 1 } })).toMatch(/unknown key "extra"/);
    const ok = resolveDetectorConfig({
      programs: { ls: { baselineSyscalls: ['read', 'read'] } },
    }) as unknown as {
      programs: Record<string, { baselineSyscalls: string[] }>;
    };
    expect(ok.programs.ls!.baselineSyscalls).toEqual(['read']);
  });

  it('has a JSON Schema, and a later layer replaces a program entry, keeping the others', () => {
    const props = detectorConfigJsonSchema.properties as Record<string, { additionalProperties?: unknown }>;
    expect(props.programs?.additionalProperties).toMatchObject({ required: ['baselineSyscalls'] });
    const merged = mergeConfigs(
      { programs: { ls: { baselineSyscalls: ['read'] }, cat: { baselineSyscalls: ['read'] } } },
      { programs: { ls: { baselineSyscalls: ['write'] } } },
    ) as unknown as { programs: Record<string, { baselineSyscalls: string[] }> };
    expect(merged.programs.ls!.baselineSyscalls).toEqual(['write']);
    expect(merged.programs.cat!.baselineSyscalls).toEqual(['read']);
  });
});

describe('detector with programs', () => {
  const config = {
    baselineSyscalls: ['read', 'write', 'connect'],
    programs: {
      '/usr/bin/ls': { baselineSyscalls: ['read', 'write'] },
      curl: {
        baselineSyscalls: ['read', 'connect'],
        allowedDenials: [{ syscall: 'connect', errno: 'ECONNREFUSED' }],
      },
    },
  };

  it("alerts on a listed program's call it never made, even when another program made it, naming the program", () => {
    const d = new SyscallAnomalyDetector(config);
    const v = d.observe([
      ev('connect', { process: proc('/usr/bin/ls', 'ls') }),
      ev('connect', { process: proc('/usr/bin/ls', 'ls') }),
      ev('connect', { process: proc('/usr/bin/curl', 'curl') }),
    ]);
    const alerts = alertsOf(v);
    expect(alerts.map((a) => a.message)).toEqual([
      "unknown syscall 'connect' not in baseline of /usr/bin/ls",
    ]);
    expect(alerts[0]).toMatchObject({
      type: 'unknown_syscall',
      syscall: 'connect',
      count: 2,
      details: { baseline: 'program', program: '/usr/bin/ls' },
      process: { exe: '/usr/bin/ls' },
    });
  });

  it('judges a program not listed (or of no known process) by the top-level baselineSyscalls, with the seed wording', () => {
    const d = new SyscallAnomalyDetector(config);
    expect(d.observe(ev('connect', { process: proc('/usr/bin/cat', 'cat') })).kind).toBe('clean');
    expect(d.observe(ev('connect')).kind).toBe('clean');
    expect(
      alertsOf(d.observe(ev('openat', { process: proc('/usr/bin/cat', 'cat') }))).map((a) => a.message),
    ).toEqual(["unknown syscall 'openat' not in baseline"]);
  });

  it("uses the program's own allowedDenials, and keeps forbidden and dangerous global", () => {
    const d = new SyscallAnomalyDetector({ ...config, forbiddenSyscalls: ['read'] });
    const refused = { denied: true, errno: 'ECONNREFUSED' } as const;
    // curl's refused connect is allowed; ls's is not (and not in its baseline either).
    expect(alertsOf(d.observe(ev('connect', { ...refused, process: proc(undefined, 'curl') }))).length).toBe(
      0,
    );
    const ls = alertsOf(d.observe(ev('connect', { ...refused, process: proc('/usr/bin/ls') })));
    expect(ls.map((a) => a.type).sort()).toEqual(['denied_syscall', 'unknown_syscall']);
    expect(alertsOf(d.observe(ev('read', { process: proc('/usr/bin/ls') })))[0]?.type).toBe(
      'forbidden_syscall',
    );
    expect(alertsOf(d.observe(ev('ptrace', { process: proc('/usr/bin/ls') })))[0]?.severity).toBe('critical');
    expect(d.stats().allowedDenials).toBe(1);
  });

  it('keeps every event in strict mode', () => {
    const d = new SyscallAnomalyDetector({ ...config, strictMode: true });
    const v = d.observe([
      ev('openat', { process: proc('/usr/bin/ls') }),
      ev('openat', { process: proc('/usr/bin/ls') }),
    ]);
    expect(alertsOf(v).map((a) => a.count)).toEqual([1, 1]);
  });
});

describe('BaselineLearner programs', () => {
  it('learns each program apart, with what it was seen doing, and merges them per program', () => {
    const learner = new BaselineLearner();
    learner.observe([
      ev('read', { pid: 1, process: proc('/usr/bin/ls', 'ls', 1) }),
      ev('openat', {
        pid: 1,
        process: proc('/usr/bin/ls', 'ls', 1),
        denied: true,
        errno: 'EACCES',
        paths: ['/root/x'],
      }),
      ev('connect', { pid: 2, process: proc(undefined, 'curl', 2) }),
      ev('futex', { pid: 3 }),
    ]);
    const a = learner.toBaseline();
    expect(a.baselineSyscalls).toEqual(['connect', 'futex', 'openat', 'read']);
    expect(a.programs).toEqual({
      '/usr/bin/ls': {
        baselineSyscalls: ['openat', 'read'],
        allowedDenials: [{ syscall: 'openat', errno: 'EACCES', path: '/root/x' }],
      },
      curl: { baselineSyscalls: ['connect'] },
    });
    expect(a.learned).toMatchObject({
      processes: 3,
      unnamedEvents: 1,
      programs: {
        '/usr/bin/ls': { events: 2, processes: 1, syscalls: 2 },
        curl: { events: 1, processes: 1, syscalls: 1 },
      },
    });
    expect(a.description).toMatch(/4 syscalls of 2 programs/);
    const b = new BaselineLearner();
    b.observe(ev('write', { pid: 9, process: proc('/usr/bin/ls', 'ls', 9) }));
    const m = mergeBaselines(a, b.toBaseline());
    expect(m.programs?.['/usr/bin/ls']?.baselineSyscalls).toEqual(['openat', 'read', 'write']);
    expect(m.learned.programs?.['/usr/bin/ls']).toEqual({ events: 3, processes: 2, syscalls: 3 });
    expect(m.learned.processes).toBe(4);
    // A learned baseline is a detector config.
    expect(() => new SyscallAnomalyDetector(m)).not.toThrow();
  });

  it('caps the programs it lists and counts the rest', () => {
    const learner = new BaselineLearner();
    const events: SyscallEvent[] = [];
    for (let i = 0; i < 300; i++)
      events.push(ev('read', { pid: i, process: proc(`/bin/p${i}`, undefined, i) }));
    learner.observe(events);
    const b = learner.toBaseline();
    expect(Object.keys(b.programs ?? {}).length).toBe(256);
    expect(b.learned.droppedPrograms).toBe(44);
  });
});

/** Traces `argv` in `cwd` with the real strace (`-f`), returning the trace text. */
function trace(name: string, argv: string[], cwd: string, extra: string[] = []): string {
  const out = join(tmp, `${name}.strace`);
  const r = spawnSync('strace', ['-f', '-o', out, ...extra, '--', ...argv], {
    cwd,
    stdio: 'ignore',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`strace ${argv.join(' ')} exited with ${r.status}`);
  return readFileSync(out, 'utf8');
}

/** What `syscan learn` does: the context tracker names each call's process, the learner learns. */
function learn(...traces: string[]): Baseline {
  const baselines = traces.map((text) => {
    const tracker = createContextTracker();
    const learner = new BaselineLearner();
    const events: SyscallEvent[] = [];
    for (const r of parseRecords(text)) {
      tracker.observe(r);
      if (r.kind === 'syscall') events.push(r);
    }
    learner.observe(events);
    return learner.toBaseline();
  });
  return baselines.length === 1 ? baselines[0]! : mergeBaselines(...baselines);
}

/** The detector's alerts of a session over `text` under `baseline` (rules and built-in checks as by default). */
function judge(baseline: Baseline, text: string): Alert[] {
  const session = createSession({ config: baseline });
  session.analyze(text);
  session.end();
  return session.summary().alerts as unknown as Alert[];
}

describe.skipIf(!hasStrace)('per-program baselines from real strace runs', () => {
  const dirA = join(tmp, 'a');
  const dirB = join(tmp, 'b');
  mkdirSync(join(dirA, 'sub'), { recursive: true });
  mkdirSync(dirB, { recursive: true });
  writeFileSync(join(dirA, 'one.txt'), 'one\n');
  for (let i = 0; i < 40; i++) writeFileSync(join(dirB, `file-${i}.log`), 'x'.repeat(i * 100));
  const connect = `import socket\ns = socket.socket()\ntry:\n  s.connect(("127.0.0.1", 9))\nexcept OSError:\n  pass\n`;

  it('learns ls and python3 apart; ls re-run elsewhere on other files is clean', () => {
    const baseline = learn(
      trace('ls-a', ['/bin/ls', '-la', dirA], dirA),
      trace('py-a', ['/usr/bin/python3', '-c', connect], dirA),
    );
    const programs = Object.keys(baseline.programs ?? {});
    expect(programs.some((p) => p.endsWith('/ls'))).toBe(true);
    expect(programs.some((p) => p.includes('python3'))).toBe(true);
    const alerts = judge(baseline, trace('ls-b', ['/bin/ls', '-la', '-R', dirB], dirB));
    expect(alerts.map((a) => a.message)).toEqual([]);
  });

  it.skipIf(!hasCc)("alerts naming ls when ls suddenly connects (a call only python3's runs made)", () => {
    const baseline = learn(
      trace('ls-a2', ['/bin/ls', dirA], dirA),
      trace('py-a2', ['/usr/bin/python3', '-c', connect], dirA),
    );
    // A preloaded library that connects from inside ls, as an injected payload would.
    const src = join(tmp, 'evil.c');
    writeFileSync(
      src,
      `#include <sys/socket.h>\n#include <netinet/in.h>\n#include <unistd.h>\n` +
        `__attribute__((constructor)) static void beacon(void) {\n` +
        `  int s = socket(AF_INET, SOCK_STREAM, 0);\n` +
        `  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr = { htonl(0x7f000001) } };\n` +
        `  connect(s, (struct sockaddr *)&a, sizeof a);\n  close(s);\n}\n`,
    );
    const so = join(tmp, 'evil.so');
    expect(spawnSync('cc', ['-shared', '-fPIC', '-o', so, src]).status).toBe(0);
    const alerts = judge(baseline, trace('ls-evil', ['/bin/ls', dirB], dirB, ['-E', `LD_PRELOAD=${so}`]));
    const connects = alerts.filter((a) => a.type === 'unknown_syscall' && a.syscall === 'connect');
    expect(connects.length).toBe(1);
    expect(connects[0]!.message).toMatch(/^unknown syscall 'connect' not in baseline of \/.*\/ls$/);
    expect(connects[0]!.process?.exe).toMatch(/\/ls$/);
  });

  it('judges a child program never seen in learning by the union: clean when within it, an alert when not', () => {
    const baseline = learn(trace('sh-a', ['/bin/sh', '-c', `/bin/ls ${dirA}`], dirA));
    expect(Object.keys(baseline.programs ?? {}).some((p) => p.endsWith('/sh'))).toBe(true);
    // cat was never learned: its calls are judged by the top-level set (all it does here, ls and sh did).
    const alerts = judge(
      baseline,
      trace('sh-b', ['/bin/sh', '-c', `/bin/ls ${dirB}; /bin/cat ${dirA}/one.txt`], dirB),
    );
    for (const a of alerts.filter((x) => x.type === 'unknown_syscall'))
      expect(a.message).not.toMatch(/baseline of/);
  });
});
