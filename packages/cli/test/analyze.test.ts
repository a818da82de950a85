import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ndjson, runCli } from './helpers/cli.js';
import { corpusDir, corpusSkipReason, hasCorpus } from './helpers/corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-analyze-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const TRACE = [
  'openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3',
  'read(3, "root:x:0:0:root:/root:/bin/bash\\n", 4096) = 32',
  'fstat(3, {st_mode=S_IFREG|0644, st_size=32, ...}) = 0',
  'openat(AT_FDCWD, "/root/.ssh/id_rsa", O_RDONLY) = -1 EACCES (Permission denied)',
  'close(3) = 0',
  '',
].join('\n');
const ALL_SYSCALLS = { baselineSyscalls: ['openat', 'read', 'fstat', 'close', 'ptrace', 'write'] };

describe('syscan analyze', () => {
  it('exits 0 with a CLEAN report when everything is in the baseline', async () => {
    const cfg = file('all.json', JSON.stringify(ALL_SYSCALLS));
    const clean = file('clean.strace', 'read(3, "x", 1) = 1\nclose(3) = 0\n');
    const r = await runCli(['analyze', '--config', cfg, clean]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^CLEAN {2}2 syscall events, no alerts/);
    expect(r.stdout).not.toContain('\x1b[');
  });

  it('exits 1 and reports each alert with its severity, line and sample', async () => {
    const r = await runCli(['analyze', '--policy', 'seed', file('t.strace', TRACE)]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^ALERT {2}\d+ alerts? in 5 syscall events/);
    expect(r.stdout).toContain("unknown syscall 'fstat' not in baseline");
    expect(r.stdout).toMatch(/HIGH\s+denied syscall: openat/);
    expect(r.stdout).toContain('t.strace:4');
    expect(r.stdout).toContain('/root/.ssh/id_rsa');
    expect(r.stdout).toMatch(/Denials {2}1 denied/);
  });

  it('writes one JSON document', async () => {
    const r = await runCli(['analyze', '--format', 'json'], { input: TRACE });
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ verdict: 'alert', events: 5, truncated: false, alertsDropped: 0 });
    expect(doc.syscalls).toMatchObject({ openat: 2, read: 1, fstat: 1, close: 1 });
    expect(doc.denied).toMatchObject({
      count: 1,
      bySyscall: { openat: { count: 1, errnos: { EACCES: 1 } } },
    });
    expect(doc.inputs).toEqual([expect.objectContaining({ name: '<stdin>', lines: 5, events: 5 })]);
    expect(doc.parseIssues).toMatchObject({ count: 0 });
    const denied = doc.alerts.find((a: { type: string }) => a.type === 'denied_syscall');
    // `input` is the session's name for it; `file` is kept as an alias for existing gates.
    expect(denied).toMatchObject({
      severity: 'high',
      syscall: 'openat',
      line: 4,
      input: '<stdin>',
      file: '<stdin>',
    });
    expect(denied.sample).toContain('EACCES');
  });

  it('caps the alert list and says how many were dropped', async () => {
    const cfg = file('strict.json', JSON.stringify({ strictMode: true, maxAlertsPerMinute: 0 }));
    const input = `${TRACE}${'fstat(4, {st_mode=S_IFREG|0644, ...}) = 0\n'.repeat(5)}`;
    const r = await runCli(
      ['analyze', '--policy', 'seed', '--format', 'json', '--config', cfg, '--max-alerts', '2'],
      {
        input,
      },
    );
    const doc = JSON.parse(r.stdout);
    expect(doc.alerts).toHaveLength(2);
    expect(doc.truncated).toBe(true);
    expect(doc.alertsDropped).toBe(doc.alertsTotal - 2);
    expect(doc.alertsDropped).toBeGreaterThan(0);
  });

  it('writes NDJSON: one line per alert, then a summary', async () => {
    const r = await runCli(['analyze', '--format', 'ndjson'], { input: TRACE });
    const lines = ndjson(r.stdout);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.slice(0, -1).every((l) => l.kind === 'alert' && typeof l.severity === 'string')).toBe(true);
    expect(lines.at(-1)).toMatchObject({ kind: 'summary', verdict: 'alert', events: 5 });
  });

  it('--fail-on: exits 1 only for an alert at or above the severity', async () => {
    expect((await runCli(['analyze', '--fail-on', 'critical'], { input: TRACE })).code).toBe(0);
    expect((await runCli(['analyze', '--fail-on', 'high'], { input: TRACE })).code).toBe(1);
    const ptrace = `${TRACE}ptrace(PTRACE_ATTACH, 1234) = 0\n`;
    const r = await runCli(['analyze', '--fail-on', 'critical', '--format', 'json'], { input: ptrace });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).severities.critical).toBeGreaterThan(0);
  });

  it('applies --baseline on top of --config, and --strict', async () => {
    const cfg = file(
      'forbid.json',
      JSON.stringify({ forbiddenSyscalls: ['close'], baselineSyscalls: ['read'] }),
    );
    const base = file('base.json', JSON.stringify(ALL_SYSCALLS));
    const r = await runCli(['analyze', '--format', 'json', '--config', cfg, '--baseline', base], {
      input: TRACE,
    });
    const types = JSON.parse(r.stdout).alerts.map((a: { type: string }) => a.type);
    expect(types).toContain('forbidden_syscall');
    expect(types).not.toContain('unknown_syscall');
  });

  it('composes a --config in snake_case with a --baseline (configs are merged once, not as raw objects)', async () => {
    const cfg = file(
      'snake.json',
      JSON.stringify({ baseline_syscalls: ['read'], forbidden_syscalls: ['close'] }),
    );
    const base = file('camel-base.json', JSON.stringify(ALL_SYSCALLS));
    const r = await runCli(['analyze', '--format', 'json', '--config', cfg, '--baseline', base], {
      input: TRACE,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const types = JSON.parse(r.stdout).alerts.map((a: { type: string }) => a.type);
    // The baseline's syscalls win; the policy's forbidden list still applies.
    expect(types).toContain('forbidden_syscall');
    expect(types).not.toContain('unknown_syscall');
  });

  it('marks the argv entries strace cut at -s where they were cut, not at the end', async () => {
    const trace = [
      '100 execve("/root/.pyenv/versions/3.11.7/bin/python3", ["/root/.pyenv/versions/3.11.7/bin"..., "job.py"], 0x7ffd /* 3 vars */) = 0',
      '100 openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)',
      '',
    ].join('\n');
    const text = await runCli(['analyze'], { input: trace });
    expect(text.stdout).toMatch(/argv \/root\/.pyenv\/versions\/3.11.7\/bin… job.py$/m);
    const json = JSON.parse((await runCli(['analyze', '--format', 'json'], { input: trace })).stdout);
    expect(json.alerts[0].process).toMatchObject({ argvTruncated: true, argvCut: [0] });
  });

  it('says who did what to what (the context tracker), unless --no-context', async () => {
    const trace = [
      '100 execve("/usr/bin/cat", ["cat", "/etc/shadow"], 0x7ffd0000 /* 3 vars */) = 0',
      '100 openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)',
      '',
    ].join('\n');
    const text = await runCli(['analyze'], { input: trace });
    expect(text.stdout).toMatch(/by cat \(\/usr\/bin\/cat\) argv cat \/etc\/shadow/);
    expect(text.stdout).toMatch(/on \/etc\/shadow/);
    const json = JSON.parse((await runCli(['analyze', '--format', 'json'], { input: trace })).stdout);
    const denied = json.alerts.find((a: { type: string }) => a.type === 'denied_syscall');
    expect(denied).toMatchObject({ process: { pid: 100, exe: '/usr/bin/cat' }, paths: ['/etc/shadow'] });
    const bare = JSON.parse(
      (await runCli(['analyze', '--format', 'json', '--no-context'], { input: trace })).stdout,
    );
    expect(bare.alerts.find((a: { type: string }) => a.type === 'denied_syscall').process).toBeUndefined();
  });

  it('names the user and the login user behind a sudo, as an ENRICHED audit log (auditd’s default) names them', async () => {
    // alice (auid 1000) ran `sudo cat /etc/shadow`; ENRICHED logs append the names after a 0x1D byte.
    const log = [
      'type=SYSCALL msg=audit(1700000000.100:50): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd a2=0 a3=0 items=1 ppid=4000 pid=4001 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="cat" exe="/usr/bin/cat" key="shadow"\x1dARCH=x86_64 SYSCALL=openat AUID="alice" UID="root" GID="root" EUID="root" SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root"',
      'type=PATH msg=audit(1700000000.100:50): item=0 name="/etc/shadow" inode=1 dev=08:01 mode=0100640 ouid=0 ogid=42 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\x1dOUID="root" OGID="shadow"',
      'type=PROCTITLE msg=audit(1700000000.100:50): proctitle=636174002F6574632F736861646F77',
      'type=EOE msg=audit(1700000000.100:50): ',
      '',
    ].join('\n');
    const text = await runCli(['analyze'], { input: log });
    expect(text.stdout).toMatch(
      /by cat \(\/usr\/bin\/cat\) argv cat \/etc\/shadow uid 0 \(root\) auid 1000 \(alice\)$/m,
    );
    const json = JSON.parse((await runCli(['analyze', '--format', 'json'], { input: log })).stdout);
    expect(json.alerts[0].process).toMatchObject({ uid: 0, user: 'root', auid: 1000, loginUser: 'alice' });
    // Rules can ask for them by Falco's names.
    const rules = file(
      'login-user.yaml',
      '- rule: Shadow read by a logged-in user\n  desc: d\n  condition: fd.name = /etc/shadow and user.loginname = alice and user.name = root\n  output: "shadow read by %user.loginname as %user.name"\n  priority: WARNING\n',
    );
    const ruled = JSON.parse(
      (await runCli(['analyze', '--format', 'json', '--rules', rules], { input: log })).stdout,
    );
    expect(ruled.alerts.map((a: { message: string }) => a.message)).toContain('shadow read by alice as root');
  });

  it('colours only on a TTY or with FORCE_COLOR, never with NO_COLOR', async () => {
    const forced = await runCli(['analyze'], { input: TRACE, env: { FORCE_COLOR: '1' } });
    expect(forced.stdout).toContain('\x1b[');
    const plain = await runCli(['analyze'], { input: TRACE, env: { NO_COLOR: '1' } });
    expect(plain.stdout).not.toContain('\x1b[');
  });

  it('escapes control characters from the input in the text report', async () => {
    const evil = 'ptrace(PTRACE_ATTACH, "\x1b]0;pwned\x07\x1b[2J") = 0\n';
    const r = await runCli(['analyze', '--fail-on', 'info'], { input: evil, env: { FORCE_COLOR: '0' } });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('\x1b');
    expect(r.stdout).not.toContain('\x07');
    expect(r.stdout).toContain('\\x1b');
  });

  it('joins several inputs into one run, naming each', async () => {
    const a = file('a.strace', 'read(3, "x", 1) = 1\n');
    const b = file('b.strace', 'openat(AT_FDCWD, "/x", O_RDONLY) = -1 EPERM (Operation not permitted)\n');
    const r = await runCli(['analyze', '--format', 'json', a, b]);
    const doc = JSON.parse(r.stdout);
    expect(doc.events).toBe(2);
    expect(doc.inputs.map((f: { name: string }) => f.name)).toEqual([a, b]);
    expect(doc.alerts.find((x: { type: string }) => x.type === 'denied_syscall')).toMatchObject({
      input: b,
      line: 1,
    });
  });

  it('reports alerts held back by the budget as suppressed, and fails on them', async () => {
    const cfg = file('budget.json', JSON.stringify({ maxAlertsPerMinute: 1, alertCooldownSecs: 600 }));
    // Two inputs = at least two verdicts: the second one finds the budget spent.
    const a = file('p1.strace', 'ptrace(PTRACE_ATTACH, 1) = 0\n');
    const b = file('p2.strace', 'mount("x", "/y", "tmpfs", 0, NULL) = 0\n');
    const r = await runCli(['analyze', '--format', 'json', '--config', cfg, a, b]);
    const doc = JSON.parse(r.stdout);
    expect(doc.suppressed.heldBack).toBeGreaterThan(0);
    expect(r.code).toBe(1);
  });
});

describe.skipIf(!hasCorpus)('syscan analyze on the corpus', () => {
  if (!hasCorpus) it.skip(corpusSkipReason, () => {});

  it('finds the EACCES of a setpriv trace', async () => {
    const r = await runCli(['analyze', '--format', 'json', join(corpusDir, 'strace', 'eacces-setpriv.log')]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.denied.count).toBeGreaterThan(0);
    expect(doc.alerts.some((a: { type: string }) => a.type === 'denied_syscall')).toBe(true);
  });

  it('reads an audit log and counts its failed syscalls as denials', async () => {
    const r = await runCli([
      'analyze',
      '--format',
      'json',
      join(corpusDir, 'audit', 'local-generated', 'audit-enriched.log'),
    ]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.events).toBeGreaterThan(0);
    expect(doc.denied.count).toBeGreaterThan(0);
  });
});

describe('analyze: the default policy', () => {
  it('is the reviewed everyday one: an ordinary trace is clean, --policy seed is the six syscalls', async () => {
    const path = file('everyday.strace', TRACE.replace(/.*EACCES.*\n/, ''));
    const r = await runCli(['analyze', path]);
    expect(r.stdout, r.stderr).toMatch(/^CLEAN/);
    expect(r.code).toBe(0);
    const seed = await runCli(['analyze', '--policy', 'seed', path]);
    expect(seed.code).toBe(1);
    expect(seed.stdout).toContain("unknown syscall 'fstat' not in baseline");
  });
});
