import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorLines, ndjson, runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MINE = `
- list: my_readers
  items: [cat]
- rule: Cat of passwd
  desc: cat read /etc/passwd
  condition: evt.type = openat and fd.name = /etc/passwd and proc.name in (my_readers)
  output: passwd read by %proc.name (file=%fd.name pid=%proc.pid)
  priority: notice
  tags: [mine]
`;
const MY_RULES = `${MINE}
- rule: Read shadow password file
  enabled: false
  override:
    enabled: replace
`;

const TRACE = [
  '100 execve("/usr/bin/cat", ["cat", "/etc/passwd", "/etc/shadow"], 0x7ffc /* 3 vars */) = 0',
  '100 openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3',
  '100 openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = 4',
  '100 connect(5, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("169.254.169.254")}, 16) = -1 ENETUNREACH (Network is unreachable)',
  '100 +++ exited with 0 +++',
  '',
].join('\n');

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('syscan rules', () => {
  it('lists the default pack and extra files with their source file', async () => {
    const mine = file('mine.yaml', MY_RULES);
    const r = await runCli(['rules', 'list', mine]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('RULE\tPRIORITY\tACTION\tSOURCE\tSYSCALLS');
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^Read SSH private key\tError\tdeny\tsyscan:agent-tools:\d+\topen,openat,openat2$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^Cat of passwd\tNotice\talert\t${mine}:\\d+\topenat$`)),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^Read shadow password file \(disabled\)\t/));
    expect(lines).toContainEqual(expect.stringMatching(/^Kernel code load\tCritical\tkill\t.*\[by name\]$/));
    const json = await runCli([
      'rules',
      'list',
      '--no-default-rules',
      '--format',
      'json',
      file('only.yaml', MINE),
    ]);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ name: 'Cat of passwd', syscalls: ['openat'], severity: 'low' }),
    ]);
  });

  it('validates files: ok with counts, or one line naming file, line and rule (exit 2)', async () => {
    const ok = await runCli(['rules', 'validate', file('ok.yaml', MY_RULES)]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok: .*ok\.yaml: 1 rule \(\d+ loaded in all\), 0 warnings\n$/);
    const bad = file(
      'bad.yaml',
      '- rule: Typo\n  desc: d\n  condition: evt.type = open and proc.nmae = x\n  output: o\n  priority: info\n',
    );
    const r = await runCli(['rules', 'validate', bad]);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([
      `syscan: ${bad}:3: rule 'Typo': unknown field 'proc.nmae' (did you mean 'proc.name'?) near 'proc.nmae = x'`,
    ]);
    const skipped = file(
      'k8s.yaml',
      '- rule: Pod\n  desc: d\n  condition: evt.type = execve and k8s.pod.name = x\n  output: o\n  priority: info\n',
    );
    const w = await runCli(['rules', 'validate', '--no-default-rules', skipped]);
    expect(w.code).toBe(0);
    expect(w.stderr).toContain(
      "rule 'Pod': uses k8s.pod.name, which syscall telemetry cannot supply; skipped",
    );
    expect((await runCli(['rules', 'validate', join(dir, 'missing.yaml')])).stderr).toMatch(
      /cannot read .*missing\.yaml.*: no such file/,
    );
  });

  it('tests rules on a trace: each match with its rule, message and line (exit 1)', async () => {
    const mine = file('t.yaml', MY_RULES);
    const trace = file('t.log', TRACE);
    const r = await runCli(['rules', 'test', mine, '--', trace]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `LOW Cat of passwd (Notice, alert) ${trace}:2\n  passwd read by cat (file=/etc/passwd pid=100)\n`,
    );
    expect(r.stdout).toContain('CRITICAL Connect to cloud metadata service (Critical, kill)');
    expect(r.stdout).not.toContain('Read shadow password file');
    expect(r.stderr).toMatch(/^syscan: 2 matches of 2 rules \(\d+ enabled\) on 1 trace\n$/);
    const nd = ndjson(
      (await runCli(['rules', 'test', '--format', 'ndjson', mine, '--', '-'], { input: TRACE })).stdout,
    );
    expect(nd.map((a) => a.rule)).toEqual(['Cat of passwd', 'Connect to cloud metadata service']);
    expect(nd[0]).toMatchObject({
      type: 'rule',
      line: 2,
      pid: 100,
      trace: '<stdin>',
      paths: ['/etc/passwd'],
    });
    const clean = await runCli(['rules', 'test', '--no-default-rules', file('only.yaml', MINE), '--', '-'], {
      input: 'getpid() = 1\n',
    });
    expect(clean.code).toBe(0);
    expect((await runCli(['rules', 'test', mine, trace])).stderr).toContain('trace files after --');
  });

  it('prints Falco JSON that falcosidekick reads unchanged', async () => {
    const r = await runCli(['rules', 'test', '--format', 'falco', '--', '-'], { input: TRACE });
    const [shadow, meta] = ndjson(r.stdout);
    expect(Object.keys(shadow!).sort()).toEqual([
      'hostname',
      'output',
      'output_fields',
      'priority',
      'rule',
      'source',
      'tags',
      'time',
    ]);
    expect(shadow).toMatchObject({ rule: 'Read shadow password file', priority: 'Error', source: 'syscall' });
    expect(shadow!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(shadow!.output).toMatch(
      /^\d\d:\d\d:\d\d\.\d{9}: Error Password hashes read \(file=\/etc\/shadow /,
    );
    expect(shadow!.output_fields).toMatchObject({
      'fd.name': '/etc/shadow',
      'proc.pid': 100,
      'proc.cmdline': 'cat /etc/passwd /etc/shadow',
    });
    expect(meta).toMatchObject({
      rule: 'Connect to cloud metadata service',
      priority: 'Critical',
      tags: expect.arrayContaining(['T1552.005']),
    });
  });

  it('turns the egress allow-list on with --egress-allow', async () => {
    const trace = TRACE.replace('169.254.169.254', '198.51.100.7');
    const on = await runCli(
      ['rules', 'test', '--egress-allow', '10.0.0.0/8', '--format', 'ndjson', '--', '-'],
      { input: trace },
    );
    expect(ndjson(on.stdout).map((a) => a.rule)).toContain('Outbound connection not in egress allow-list');
    const allowed = await runCli(
      ['rules', 'test', '--egress-allow', '198.51.100.0/24', '--format', 'ndjson', '--', '-'],
      { input: trace },
    );
    expect(ndjson(allowed.stdout).map((a) => a.rule)).not.toContain(
      'Outbound connection not in egress allow-list',
    );
    const bad = await runCli(['rules', 'list', '--egress-allow', '300.1.1.1']);
    expect(errorLines(bad.stderr)).toEqual([
      "syscan: egress allow-list: '300.1.1.1' is not an IP address or CIDR range",
    ]);
  });

  it('reads audit logs too, open flags from the SYSCALL registers', async () => {
    const audit = [
      'type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd1234 a2=80000 a3=0 items=1 ppid=1 pid=77 auid=1000 uid=0 gid=0 euid=0 comm="cat" exe="/usr/bin/cat" key=(null)',
      'type=CWD msg=audit(1700000000.123:42): cwd="/root"',
      'type=PATH msg=audit(1700000000.123:42): item=0 name="/etc/shadow" inode=1 dev=00:01 mode=0100640 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL',
      'type=EOE msg=audit(1700000000.123:42):',
      '',
    ].join('\n');
    const r = await runCli(['rules', 'test', '--format', 'falco', '--', '-'], { input: audit });
    expect(ndjson(r.stdout)).toEqual([
      expect.objectContaining({ rule: 'Read shadow password file', time: '2023-11-14T22:13:20.123000000Z' }),
    ]);
  });
});
