import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorLines, ndjson, runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-analyze-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Written for Falco (its macro and list forms, a list `override: append`), with only fields syscan reads. */
const FALCO_RULES = `
- macro: open_read
  condition: (evt.type in (open, openat, openat2) and evt.is_open_read=true and fd.typechar='f' and fd.num>=0)
- list: token_readers
  items: [cat]
- list: token_readers
  items: [head]
  override:
    items: append
- rule: Read test token
  desc: a token file read by a reader tool
  condition: open_read and fd.filename = "secret.token" and proc.name in (token_readers)
  output: token read (file=%fd.name command=%proc.cmdline pid=%proc.pid)
  priority: WARNING
  tags: [filesystem, mitre_credential_access]
- rule: Container shell
  desc: uses a field syscan cannot know
  condition: evt.type = execve and container.id != host
  output: shell in %container.id
  priority: NOTICE
`;

/** Falco's JSON output (json_output: true): the shape falcosidekick reads. */
function expectFalcoShape(o: Record<string, unknown>): void {
  expect(Object.keys(o).sort()).toEqual([
    'hostname',
    'output',
    'output_fields',
    'priority',
    'rule',
    'source',
    'tags',
    'time',
  ]);
  expect(o.output).toMatch(
    /^\d\d:\d\d:\d\d\.\d{9}: (Emergency|Alert|Critical|Error|Warning|Notice|Informational|Debug) /,
  );
  expect(o.priority).toMatch(/^(Emergency|Alert|Critical|Error|Warning|Notice|Informational|Debug)$/);
  expect(typeof o.rule).toBe('string');
  // RFC 3339, UTC, nanoseconds as Falco writes it.
  expect(o.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  expect(Number.isNaN(Date.parse(String(o.time)))).toBe(false);
  expect(o.source).toBe('syscall');
  expect(Array.isArray(o.tags)).toBe(true);
  expect(typeof o.hostname).toBe('string');
  expect(typeof o.output_fields).toBe('object');
  expect(typeof (o.output_fields as Record<string, unknown>)['evt.time']).toBe('number');
}

const hasStrace = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '--', 'true']).status === 0;

/** A real trace of `cat secret.token` and `ls` (everyday, silent for the rule). */
function realTrace(): string {
  const token = file('secret.token', 'hunter2\n');
  const trace = join(dir, 'real.strace');
  // -s 256: whole paths in argv (strace cuts strings at 32 bytes by default).
  const r = spawnSync('strace', [
    '-f',
    '-s',
    '256',
    '-o',
    trace,
    '--',
    'sh',
    '-c',
    `cat ${token} >/dev/null; ls ${dir} >/dev/null`,
  ]);
  expect(r.status).toBe(0);
  return trace;
}

describe('syscan analyze --rules (built CLI)', () => {
  const rules = file('falco-rules.yaml', FALCO_RULES);

  it.skipIf(!hasStrace)(
    'loads a rule file written for Falco and fires it on a real trace, with the loader warning on stderr',
    async () => {
      const trace = realTrace();
      const r = await runCli(['analyze', '--rules', rules, '--format', 'falco', trace]);
      expect(r.code).toBe(1);
      const warnings = errorLines(r.stderr);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^syscan: warning: .*falco-rules\.yaml:\d+: rule 'Container shell': .*container\.id/,
      );
      const alerts = ndjson(r.stdout);
      for (const a of alerts) expectFalcoShape(a);
      const mine = alerts.filter((a) => a.rule === 'Read test token');
      // cat reads it once; ls lists the directory and reads nothing.
      expect(mine).toHaveLength(1);
      expect(mine[0]!.priority).toBe('Warning');
      expect(mine[0]!.tags).toEqual(['filesystem', 'mitre_credential_access']);
      expect(mine[0]!.output).toMatch(
        /Warning token read \(file=.*secret\.token command=cat .*secret\.token pid=\d+\)$/,
      );
      expect(mine[0]!.output_fields).toMatchObject({ 'fd.name': join(dir, 'secret.token') });
    },
  );

  it('adds to the shipped pack by default and leaves it out with --no-default-rules', async () => {
    const trace = file(
      'shadow.strace',
      [
        '100 execve("/usr/bin/cat", ["cat", "/etc/shadow"], 0x7ffc /* 3 vars */) = 0',
        '100 openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = 3',
        '100 +++ exited with 0 +++',
        '',
      ].join('\n'),
    );
    const withPack = ndjson((await runCli(['analyze', '--rules', rules, '-f', 'falco', trace])).stdout);
    expect(withPack.map((a) => a.rule)).toContain('Read shadow password file');
    const without = await runCli(['analyze', '--no-default-rules', '--rules', rules, '-f', 'falco', trace]);
    expect(ndjson(without.stdout).map((a) => a.rule)).not.toContain('Read shadow password file');
    // No rules at all is a valid choice: only the detector judges.
    const bare = await runCli(['analyze', '--no-default-rules', '-f', 'json', trace]);
    expect(bare.stderr).toBe('');
    expect(JSON.stringify(JSON.parse(bare.stdout))).not.toContain('Read shadow password file');
  });

  it('overrides a shipped rule the Falco way', async () => {
    const off = file(
      'off.yaml',
      '- rule: Read shadow password file\n  enabled: false\n  override:\n    enabled: replace\n',
    );
    const trace = file(
      'shadow2.strace',
      '100 execve("/usr/bin/cat", ["cat", "/etc/shadow"], 0x7ffc /* 3 vars */) = 0\n100 openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = 3\n',
    );
    const r = await runCli(['analyze', '--rules', off, '-f', 'falco', trace]);
    expect(ndjson(r.stdout).map((a) => a.rule)).not.toContain('Read shadow password file');
  });

  it('turns on the egress rule with --egress-allow', async () => {
    const trace = file(
      'connect.strace',
      '100 connect(5, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("192.0.2.7")}, 16) = -1 ENETUNREACH (Network is unreachable)\n',
    );
    const r = await runCli(['analyze', '--egress-allow', '127.0.0.0/8', '-f', 'falco', trace]);
    const egress = ndjson(r.stdout).filter((a) => String(a.rule).toLowerCase().includes('egress'));
    expect(egress.length).toBeGreaterThan(0);
    for (const a of egress) expectFalcoShape(a);
  });

  it.each([
    [['--rules', '/nonexistent/r.yaml'], /^syscan: cannot read '\/nonexistent\/r\.yaml': no such file$/],
    [['--rules', 'BAD'], /^syscan: .*bad\.yaml.*/],
    [
      ['--no-default-rules', '--egress-allow', '10.0.0.0/8'],
      /^syscan: --egress-allow sets a list of the default rules/,
    ],
  ])('a bad rule option is one line and exit 2: %j', async (args, message) => {
    const bad = file(
      'bad.yaml',
      '- rule: Broken\n  desc: x\n  condition: evt.type = openat and (fd.name = /x\n  output: x\n  priority: WARNING\n',
    );
    const trace = file('t.strace', 'read(3, "x", 1) = 1\n');
    const r = await runCli(['analyze', ...args.map((a) => (a === 'BAD' ? bad : a)), trace]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = errorLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});
