/**
 * Rules in the runner, through the built binaries and real strace: a rules file written for
 * Falco fires the same in `syscan analyze --rules`, `syscan-sandbox exec --rules` and `serve`;
 * a `kill` rule kills under --enforce and is only reported under --dry-run; a `deny` rule
 * decided by syscall name is refused at entry; `serve --log-format falco` writes Falco's JSON.
 * Network: a connect to 127.0.0.1:9 only (nothing listens there; nothing leaves the machine).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appDir, binPath, ensureBuilt, hasNamespaces, hasStrace, python } from './helpers.js';

const FALCO_RULES = join(appDir, 'test', 'fixtures', 'falco-rules.yaml');
const CLI_BIN = join(appDir, '..', '..', 'packages', 'cli', 'dist', 'bin.mjs');
const ISOLATION = hasNamespaces ? 'auto' : 'none';
const CONNECT_LOCAL = `import socket
s = socket.socket()
try:
    s.connect(("127.0.0.1", 9))
except OSError:
    pass`;

interface RunJson {
  status: number;
  stdout: { text: string };
  enforce: boolean;
  alerts: Array<{ type: string; rule?: string; message: string; action?: string }>;
  killed: { reason: string; alert?: { rule?: string } } | null;
  dryRun?: {
    wouldKill: { rule?: string; action?: string; message: string } | null;
    wouldRefuseAtEntry: string[];
    refusableCalls: Record<string, number>;
  };
}

let dir: string;
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sandbox-rules-'));
  writeFileSync(join(dir, 'secret.token'), 'hunter2\n');
  writeFileSync(join(dir, 'connect.py'), CONNECT_LOCAL);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function execJson(args: string[], argv: string[]): { run: RunJson; stderr: string; code: number | null } {
  const r = spawnSync(
    process.execPath,
    [binPath, 'exec', '--json', '--isolation', ISOLATION, ...args, '--', ...argv],
    { cwd: dir, encoding: 'utf8', timeout: 60_000 },
  );
  if (!r.stdout.startsWith('{')) throw new Error(`exec failed (${r.status}): ${r.stderr}`);
  return { run: JSON.parse(r.stdout) as RunJson, stderr: r.stderr, code: r.status };
}

/** The command of the comparison: a token read, an everyday ls, a local connect. */
const WORKLOAD = ['sh', '-c', `cat secret.token >/dev/null; ls >/dev/null; ${python} connect.py`];
const MY_RULES = ['Read test token', 'Connect to local discard port'];

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
  expect(o.priority).toMatch(/^(Emergency|Alert|Critical|Error|Warning|Notice|Informational|Debug)$/);
  expect(o.output).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{9}: ${String(o.priority)} `));
  expect(o.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  expect(Number.isNaN(Date.parse(String(o.time)))).toBe(false);
  expect(o.source).toBe('syscall');
  expect(Array.isArray(o.tags)).toBe(true);
  expect(typeof o.hostname).toBe('string');
  expect(typeof o.rule).toBe('string');
  expect(typeof (o.output_fields as Record<string, unknown>)['evt.time']).toBe('number');
}

/** `rule: message` of my rules' alerts, sorted: what must be the same everywhere. */
function fired(alerts: Array<{ rule?: unknown; message?: unknown; output?: unknown }>): string[] {
  return alerts
    .filter((a) => MY_RULES.includes(String(a.rule)))
    .map((a) => `${String(a.rule)}: ${String(a.message ?? String(a.output).replace(/^\S+ \w+ /, ''))}`)
    .sort();
}

function startServe(args: string[]): { child: ChildProcess; port: Promise<number>; stdout: () => string } {
  const child = spawn(
    process.execPath,
    [binPath, 'serve', '--port', '0', '--no-auth', '--isolation', ISOLATION, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const port = new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      for (const line of err.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'listening' && typeof entry.port === 'number') resolve(entry.port);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  port.catch(() => {});
  return { child, port, stdout: () => out };
}

async function post(port: number, body: unknown): Promise<RunJson> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/exec`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as RunJson;
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

describe.skipIf(!hasStrace)(
  'a rules file written for Falco fires the same in the CLI, exec and serve',
  () => {
    it('exec --rules: fires, and says which rule it skipped (one warning line)', () => {
      const { run, stderr } = execJson(['--rules', FALCO_RULES], WORKLOAD);
      expect(stderr.split('\n').filter(Boolean)).toEqual([
        expect.stringMatching(
          /^syscan-sandbox: warning: .*falco-rules\.yaml:\d+: rule 'Container shell': .*container\.id.*skipped$/,
        ),
      ]);
      const mine = fired(run.alerts);
      expect(mine).toHaveLength(2);
      expect(mine[0]).toMatch(/^Connect to local discard port: connect to 127\.0\.0\.1:9 by python/);
      // strace -y: the runner knows the file it really opened, so the path is absolute.
      expect(mine[1]).toBe(`Read test token: token read (file=${dir}/secret.token command=cat secret.token)`);
    });

    it('the CLI on a real trace of the same command, and serve --log-format falco, fire the same', async () => {
      expect(existsSync(CLI_BIN), `build the CLI first (${CLI_BIN})`).toBe(true);
      const { run } = execJson(['--rules', FALCO_RULES], WORKLOAD);
      const fromExec = fired(run.alerts);
      expect(fromExec).toHaveLength(2);

      const trace = join(dir, 'workload.strace');
      // -y as the runner traces, so both see the same decorated paths.
      const traced = spawnSync('strace', ['-f', '-y', '-s', '256', '-o', trace, '--', ...WORKLOAD], {
        cwd: dir,
      });
      expect(traced.status).toBe(0);
      const cli = spawnSync(
        process.execPath,
        [CLI_BIN, 'analyze', '--rules', FALCO_RULES, '-f', 'falco', trace],
        {
          encoding: 'utf8',
        },
      );
      expect(cli.status).toBe(1);
      const cliLines = cli.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const line of cliLines) expectFalcoShape(line);
      expect(fired(cliLines)).toEqual(fromExec);

      const serve = startServe(['--rules', FALCO_RULES, '--log-format', 'falco', '--guard-mode', 'report']);
      try {
        const port = await serve.port;
        const answer = await post(port, { argv: WORKLOAD, cwd: dir });
        expect(fired(answer.alerts)).toEqual(fromExec);
        const falco = serve
          .stdout()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        // Every alert of the run, one Falco object each, and nothing else on stdout.
        expect(falco.length).toBeGreaterThanOrEqual(answer.alerts.length);
        for (const line of falco) expectFalcoShape(line);
        expect(fired(falco)).toEqual(fromExec);
        const token = falco.find((l) => l.rule === MY_RULES[0])!;
        expect(token.priority).toBe('Warning');
        expect(token.tags).toEqual(['filesystem', 'mitre_credential_access']);
        expect(token.output_fields).toMatchObject({
          'fd.name': `${dir}/secret.token`,
          'proc.cmdline': 'cat secret.token',
        });
      } finally {
        await stop(serve.child);
      }
    });
  },
);

describe.skipIf(!hasStrace)('rule actions under --enforce and --dry-run', () => {
  const KILL_RULE = `
- rule: Read test token
  desc: a token file read
  condition: evt.type in (open, openat, openat2) and fd.filename = "secret.token"
  output: token read (command=%proc.cmdline)
  priority: NOTICE
  action: kill
`;
  const DENY_BY_NAME = `
- rule: No getcwd
  desc: asks where it is
  condition: evt.type = getcwd
  output: getcwd by %proc.name
  priority: NOTICE
  action: deny
`;
  // The read, then time for the kill to land, then a line the kill must prevent.
  const READ_THEN_PRINT = ['sh', '-c', 'cat secret.token >/dev/null; sleep 2; echo after'];

  it('a kill-action rule (priority Notice, below --fail-on) kills the run under --enforce', () => {
    const rules = file('kill.yaml', KILL_RULE);
    const { run } = execJson(['--rules', rules, '--enforce'], READ_THEN_PRINT);
    expect(run.killed?.reason).toBe('policy');
    expect(run.killed?.alert?.rule).toBe('Read test token');
    expect(run.status).toBe(137);
    expect(run.stdout.text).toBe('');
    expect(run.dryRun).toBeUndefined();
  });

  it('under --dry-run it is not killed, and the result says it would have been', () => {
    const rules = file('kill.yaml', KILL_RULE);
    const { run, stderr } = execJson(['--rules', rules, '--enforce', '--dry-run'], READ_THEN_PRINT);
    expect(stderr).toBe('');
    expect(run.killed).toBeNull();
    expect(run.status).toBe(0);
    expect(run.stdout.text).toBe('after\n');
    expect(run.enforce).toBe(false);
    expect(run.dryRun?.wouldKill).toMatchObject({ rule: 'Read test token', action: 'kill' });
    expect(run.dryRun?.wouldKill?.message).toContain('token read (command=cat secret.token)');
    // Without a kill rule, nothing would have been killed.
    const quiet = execJson(['--dry-run'], ['sh', '-c', 'ls >/dev/null; echo after']).run;
    expect(quiet.dryRun?.wouldKill).toBeNull();
  });

  it('the text summary of a dry run says what it would have done', () => {
    const rules = file('kill.yaml', KILL_RULE);
    const r = spawnSync(
      process.execPath,
      [binPath, 'exec', '--isolation', ISOLATION, '--rules', rules, '--dry-run', '--', ...READ_THEN_PRINT],
      { cwd: dir, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('after\n');
    expect(r.stderr).toMatch(/dry run: would have killed: low rule 'Read test token' \(kill\): token read/);
  });

  it('a deny rule decided by syscall name is refused at entry under --enforce, and only counted under --dry-run', () => {
    const rules = file('deny.yaml', DENY_BY_NAME);
    const enforced = execJson(['--rules', rules, '--enforce'], ['sh', '-c', '/bin/pwd; echo after']).run;
    // strace refused getcwd at entry and killed pwd before it could print the directory.
    expect(enforced.stdout.text).not.toContain(dir);
    expect(enforced.killed?.alert?.rule).toBe('No getcwd');

    const monitored = execJson(['--rules', rules, '--dry-run'], ['sh', '-c', '/bin/pwd; echo after']).run;
    expect(monitored.stdout.text).toContain(dir);
    expect(monitored.dryRun?.wouldRefuseAtEntry).toContain('getcwd');
    expect(monitored.dryRun?.refusableCalls.getcwd).toBeGreaterThanOrEqual(1);
    expect(monitored.dryRun?.wouldKill).toMatchObject({
      rule: 'No getcwd',
      action: 'deny',
      syscall: 'getcwd',
    });
  });

  it('--no-default-rules leaves the shipped pack out', () => {
    const withPack = execJson([], ['cat', '/etc/shadow']).run;
    const without = execJson(['--no-default-rules'], ['cat', '/etc/shadow']).run;
    expect(withPack.alerts.map((a) => a.rule)).toContain('Read shadow password file');
    expect(without.alerts.map((a) => a.rule)).not.toContain('Read shadow password file');
  });

  it('--egress-allow turns the egress rule on: a connect outside the list alerts, one inside does not', () => {
    // A UDP connect() only sets the peer: no packet leaves the machine.
    const udp = file(
      'udp.py',
      'import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.connect(("192.0.2.7", 9))\n',
    );
    const rule = 'Outbound connection not in egress allow-list';
    const outside = execJson(['--egress-allow', '10.0.0.0/8'], [python, udp]).run;
    expect(outside.alerts.map((a) => a.rule)).toContain(rule);
    const inside = execJson(['--egress-allow', '10.0.0.0/8,192.0.2.0/24'], [python, udp]).run;
    expect(inside.alerts.map((a) => a.rule)).not.toContain(rule);
    const off = execJson([], [python, udp]).run;
    expect(off.alerts.map((a) => a.rule)).not.toContain(rule);
  });

  it('a rule on a stat call still sees its path and fd: strace leaves only the stat struct undecoded', () => {
    // The runner runs strace with `-e verbose=!%%stat`: the result struct is an address.
    const rules = file(
      'stat.yaml',
      `- rule: Stat test token
  desc: a token file looked at
  condition: evt.type in (stat, lstat, newfstatat, statx, fstat) and fs.path.name endswith "/secret.token"
  output: token stat (args=%evt.args)
  priority: WARNING
- rule: Fstat of test token
  desc: an open token file looked at
  condition: evt.type in (fstat, newfstatat, statx) and fd.name endswith "/secret.token"
  output: token fstat (args=%evt.args)
  priority: WARNING
`,
    );
    const rulesOf = (script: string): Map<string | undefined, string> =>
      new Map(
        execJson(['--rules', rules], [python, '-c', script]).run.alerts.map((a) => [a.rule, a.message]),
      );
    const byPath = rulesOf('import os\nos.stat("secret.token")\n');
    expect(byPath.get('Stat test token')).toMatch(/secret\.token", 0x[0-9a-f]+/);
    const byFd = rulesOf('import os\nf = open("secret.token")\nos.fstat(f.fileno())\n');
    expect(byFd.get('Fstat of test token')).toMatch(/secret\.token>, "", 0x[0-9a-f]+, AT_EMPTY_PATH/);
    expect(byPath.get('Stat test token')).not.toContain('st_mode');
  });

  it('serve --dry-run answers what it would have killed, and runs the command to its end', async () => {
    const rules = file('kill.yaml', KILL_RULE);
    const serve = startServe(['--rules', rules, '--dry-run', '--guard-mode', 'report']);
    try {
      const answer = await post(await serve.port, { argv: READ_THEN_PRINT, cwd: dir });
      expect(answer.killed).toBeNull();
      expect(answer.stdout.text).toBe('after\n');
      expect(answer.dryRun?.wouldKill?.rule).toBe('Read test token');
    } finally {
      await stop(serve.child);
    }
  });

  it('a rules file that does not compile or cannot be read is one line, exit 2 (exec and serve)', () => {
    const bad = file(
      'bad.yaml',
      '- rule: Broken\n  desc: x\n  condition: evt.type = openat and (\n  output: x\n  priority: WARNING\n',
    );
    for (const args of [
      ['exec', '--rules', bad, '--', 'true'],
      ['exec', '--rules', join(dir, 'missing.yaml'), '--', 'true'],
      ['exec', '--egress-allow', 'bad.yaml', '--', 'true'],
      ['serve', '--no-auth', '--port', '0', '--rules', bad],
    ]) {
      const r = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status).toBe(2);
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^syscan-sandbox: .*(bad\.yaml|missing\.yaml)/);
    }
  });
});
