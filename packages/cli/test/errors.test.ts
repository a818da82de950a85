import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_DIRECTORY_FILES, resolveInputs } from '../src/io/input.js';
import { errorLines, runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Every bad input: exit 2, one `syscan: …` line on stderr containing `expected`, nothing on stdout, no stack. */
async function expectOneLineError(args: string[], expected: string | RegExp, input?: string): Promise<void> {
  const r = await runCli(args, input === undefined ? {} : { input });
  expect(r.code, r.stderr).toBe(2);
  const lines = errorLines(r.stderr);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^syscan: /);
  if (typeof expected === 'string') expect(lines[0]).toContain(expected);
  else expect(lines[0]).toMatch(expected);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
}

describe('bad input: one line on stderr, exit 2', () => {
  it('names a missing file', async () => {
    await expectOneLineError(['analyze', 'nope.log'], "syscan: cannot read 'nope.log': no such file");
    await expectOneLineError(['parse', join(dir, 'missing.log')], 'no such file');
    await expectOneLineError(['learn', 'nope.log'], "cannot read 'nope.log'");
  });

  it('names a directory with no file in it, and a FIFO inside a directory', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    mkdirSync(join(empty, 'sub'));
    await expectOneLineError(
      ['parse', empty],
      `'${empty}' is a directory with no file in it: nothing to read`,
    );
    await expectOneLineError(['learn', empty], 'is a directory with no file in it');
    const withFifo = mkdtempSync(join(dir, 'fifo-'));
    writeFileSync(join(withFifo, 'a.strace'), 'read(3, "x", 1) = 1\n');
    execFileSync('mkfifo', [join(withFifo, 'b.pipe')]);
    await expectOneLineError(
      ['parse', withFifo],
      `cannot read '${join(withFifo, 'b.pipe')}' in directory '${withFifo}': not a regular file`,
    );
  });

  it('refuses more files under directories than it reads at once, counting the files before them', async () => {
    // The cap's logic at a cap of 10 (the CLI's is MAX_DIRECTORY_FILES): a file, then a
    // directory of 10, is one too many in all, and the error names that directory.
    const many = mkdtempSync(join(dir, 'many-'));
    for (let i = 0; i < 10; i++) writeFileSync(join(many, String(i)), '');
    const one = file('one.strace', 'read(3, "x", 1) = 1\n');
    await expect(resolveInputs([many], 10)).resolves.toHaveLength(10);
    await expect(resolveInputs([one, many], 10)).rejects.toThrow(
      `more than 10 files to read with '${many}': name fewer directories or files at a time`,
    );
    expect(MAX_DIRECTORY_FILES).toBe(100_000);
  });

  it('fails before any output when a later file is missing', async () => {
    const good = file('good.strace', 'read(3, "x", 1) = 1\n');
    await expectOneLineError(['parse', good, 'nope.log'], "cannot read 'nope.log'");
  });

  it.skipIf(process.getuid?.() === 0)(
    'names an unreadable file (skipped as root: root reads everything)',
    async () => {
      const path = file('secret.log', 'read(3, "x", 1) = 1\n');
      chmodSync(path, 0o000);
      await expectOneLineError(['analyze', path], `cannot read '${path}': permission denied`);
    },
  );

  it('names a config file with bad JSON', async () => {
    const cfg = file('bad.json', '{"baselineSyscalls": [read}');
    await expectOneLineError(
      ['analyze', '--config', cfg],
      new RegExp(`config '${cfg}' is not valid JSON`),
      '',
    );
  });

  it('names a baseline that is not an object', async () => {
    const cfg = file('array.json', '["read"]');
    await expectOneLineError(['analyze', '--baseline', cfg], `baseline '${cfg}' must hold a JSON object`, '');
  });

  it('names the invalid key of a config, in one line', async () => {
    const cfg = file(
      'invalid.json',
      JSON.stringify({ maxTotalEventsPerMinute: -3, baselineSyscalls: 'read' }),
    );
    const r = await runCli(['analyze', '--config', cfg], { input: '' });
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(`invalid detector config in config '${cfg}'`);
    expect(r.stderr).toContain('maxTotalEventsPerMinute');
    expect(r.stderr).toContain('baselineSyscalls');
  });

  it('names a missing config file', async () => {
    await expectOneLineError(
      ['analyze', '--config', 'nope.json'],
      "cannot read 'nope.json': no such file",
      '',
    );
  });

  it('rejects unknown options, commands and choices', async () => {
    await expectOneLineError(['analyze', '--frobnicate'], "unknown option '--frobnicate'");
    await expectOneLineError(['anlyze'], /unknown command 'anlyze'.*analyze/);
    await expectOneLineError(['analyze', '--format', 'xml'], "argument 'xml' is invalid");
    await expectOneLineError(['analyze', '--fail-on', 'severe'], "argument 'severe' is invalid");
    await expectOneLineError(['parse', '--source', 'syslog'], "argument 'syslog' is invalid");
    await expectOneLineError(['learn', '--headroom', '0.5'], 'must be a number >= 1');
    await expectOneLineError(['analyze', '--max-alerts', '-1'], '--max-alerts must be a positive integer');
  });

  it('rejects --follow without exactly one file', async () => {
    await expectOneLineError(['analyze', '--follow'], '--follow needs exactly one file', '');
    const two = mkdtempSync(join(dir, 'follow-'));
    writeFileSync(join(two, 'a.strace'), 'read(3, "x", 1) = 1\n');
    writeFileSync(join(two, 'b.strace'), 'read(3, "x", 1) = 1\n');
    await expectOneLineError(['analyze', '--follow', two], `'${two}' is a directory of 2 files`);
  });

  it('exits 2 with help on stderr when no command is given', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: syscan');
  });

  it('shows a stack trace only with --debug', async () => {
    const r = await runCli(['--debug', 'analyze', 'nope.log']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("syscan: cannot read 'nope.log': no such file");
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('learn refuses input without events', async () => {
    const path = file('prose.txt', 'total 64\ndrwxr-xr-x 10 user staff 320 Feb 28 12:00 .\n');
    await expectOneLineError(['learn', path], 'nothing to learn');
  });
});

describe('help and version exit 0', () => {
  it('prints help for each command', async () => {
    for (const command of ['parse', 'analyze', 'learn', 'syscalls']) {
      const r = await runCli([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: syscan ${command}`);
    }
  });

  it('prints the version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
