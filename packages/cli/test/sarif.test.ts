import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALERT_TYPES } from '@syscan/core';
import AjvDraft04 from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-sarif-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The SARIF 2.1.0 schema as Microsoft's SARIF SDK ships it (2.1.0-rtm.5, the text the OASIS
 * standard adopted; JSON Schema draft-04), with its uri and date-time formats checked.
 */
const require = createRequire(import.meta.url);
const schema = JSON.parse(
  readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'),
);
// Both are CommonJS modules that also set `exports.default` to their main export.
const Ajv = AjvDraft04.default;
const addFormats = addFormatsModule.default;
// The schema's `language` pattern (`…[a-zA-Z]{2}]?$`) is valid only without the u flag.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validateSarif = ajv.compile(schema);

function expectValidSarif(text: string): SarifLog {
  const log = JSON.parse(text) as SarifLog;
  const ok = validateSarif(log);
  expect(ok, JSON.stringify(validateSarif.errors, null, 2)).toBe(true);
  return log;
}

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations?: Array<{
    physicalLocation: {
      artifactLocation: { uri: string; uriBaseId?: string };
      region?: { startLine: number };
    };
  }>;
  partialFingerprints: Record<string, string>;
  properties: Record<string, unknown>;
}
interface SarifLog {
  version: string;
  runs: Array<{
    tool: { driver: { name: string; rules: Array<{ id: string; defaultConfiguration: { level: string } }> } };
    results: SarifResult[];
    invocations: Array<{
      toolExecutionNotifications?: Array<{ descriptor: { id: string }; message: { text: string } }>;
    }>;
  }>;
}

const TRACE = [
  'openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3',
  'openat(AT_FDCWD, "/root/.ssh/id_rsa", O_RDONLY) = -1 EACCES (Permission denied)',
  'ptrace(PTRACE_ATTACH, 1234) = 0',
  'close(3) = 0',
  '',
].join('\n');

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('syscan analyze --format sarif', () => {
  it('the validator is live: a log without a tool fails it', () => {
    expect(validateSarif({ version: '2.1.0', runs: [{ results: [] }] })).toBe(false);
  });

  const cfg = file(
    'policy.json',
    JSON.stringify({ forbidden_syscalls: ['close'], baseline_syscalls: ['openat'] }),
  );

  it('writes a SARIF 2.1.0 log that validates against the schema', async () => {
    file('run.strace', TRACE);
    const r = await runCli(['analyze', '--format', 'sarif', '--config', cfg, 'run.strace'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1); // the exit status is the verdict, whatever the format
    const log = expectValidSarif(r.stdout);
    expect(log.version).toBe('2.1.0');
    const run = log.runs[0]!;
    expect(run.tool.driver.name).toBe('syscan');

    // One driver rule per alert type, at the severity the run's config gives it, then one
    // per rule-file rule that fired (`rule/<name>`), each with its results.
    const ruleIds = run.tool.driver.rules.map((rule) => rule.id);
    expect(ruleIds.slice(0, ALERT_TYPES.length)).toEqual([...ALERT_TYPES]);
    for (const id of ruleIds.slice(ALERT_TYPES.length)) {
      expect(id).toMatch(/^rule\//);
      expect(run.results.some((x) => x.ruleId === id)).toBe(true);
    }
    const forbidden = run.tool.driver.rules.find((rule) => rule.id === 'forbidden_syscall');
    expect(forbidden?.defaultConfiguration.level).toBe('error');

    // A result per alert: its rule, level, and the trace file and line.
    const detector = run.results.filter((x) => !x.ruleId.startsWith('rule/'));
    const byRule = new Map(detector.map((x) => [`${x.ruleId}:${x.properties.syscall}`, x]));
    expect([...byRule.keys()].sort()).toEqual(
      ['denied_syscall:openat', 'forbidden_syscall:close', 'unknown_syscall:ptrace'].sort(),
    );
    for (const result of run.results) expect(ruleIds[result.ruleIndex]).toBe(result.ruleId);
    const denied = byRule.get('denied_syscall:openat')!;
    expect(denied.level).toBe('error');
    expect(denied.locations?.[0]?.physicalLocation).toEqual({
      artifactLocation: { uri: 'run.strace', uriBaseId: '%SRCROOT%', index: 0 },
      region: { startLine: 2, snippet: { text: expect.stringContaining('EACCES') } },
    });
    expect(byRule.get('unknown_syscall:ptrace')!.level).toBe('error'); // ptrace is dangerous: critical
    expect(byRule.get('forbidden_syscall:close')!.locations?.[0]?.physicalLocation.region?.startLine).toBe(4);
  });

  it('keeps partialFingerprints stable across runs, even when the lines move', async () => {
    const a = file('a.strace', TRACE);
    const b = file('b.strace', `getpid() = 42\nread(3, "", 1) = 0\n${TRACE}`);
    const runA = expectValidSarif(
      (await runCli(['analyze', '--format', 'sarif', '--config', cfg, a])).stdout,
    );
    const again = expectValidSarif(
      (await runCli(['analyze', '--format', 'sarif', '--config', cfg, a])).stdout,
    );
    const runB = expectValidSarif(
      (await runCli(['analyze', '--format', 'sarif', '--config', cfg, b])).stdout,
    );
    const prints = (log: SarifLog, rule: string) =>
      log.runs[0]!.results.filter((x) => x.ruleId === rule).map(
        (x) => x.partialFingerprints['syscanFinding/v1'],
      );
    for (const rule of ['denied_syscall', 'forbidden_syscall', 'unknown_syscall:ptrace']) {
      const id = rule.split(':')[0]!;
      expect(prints(runA, id).length).toBeGreaterThan(0);
      expect(prints(again, id)).toEqual(prints(runA, id));
      expect(prints(runB, id)).toEqual(expect.arrayContaining(prints(runA, id)));
    }
    // Different findings, different fingerprints.
    const all = runA.runs[0]!.results.map((x) => x.partialFingerprints['syscanFinding/v1']);
    expect(new Set(all).size).toBe(all.length);
    // The lines did move.
    const line = (log: SarifLog) =>
      log.runs[0]!.results.find((x) => x.ruleId === 'denied_syscall')!.locations![0]!.physicalLocation.region!
        .startLine;
    expect(line(runB)).toBe(line(runA) + 2);
  });

  it('from stdin: results without a file location, still valid; a clean run has no results', async () => {
    const r = await runCli(['analyze', '--format', 'sarif', '--config', cfg], { input: TRACE });
    const log = expectValidSarif(r.stdout);
    expect(log.runs[0]!.results.length).toBeGreaterThan(0);
    expect(log.runs[0]!.results.every((x) => x.locations === undefined)).toBe(true);

    const allowed = file('allow.json', JSON.stringify({ baselineSyscalls: ['read', 'close'] }));
    const clean = await runCli(['analyze', '--format', 'sarif', '--config', allowed], {
      input: 'read(3, "x", 1) = 1\nclose(3) = 0\n',
    });
    expect(clean.code).toBe(0);
    expect(expectValidSarif(clean.stdout).runs[0]!.results).toEqual([]);
  });

  it('says what the results cannot show: alerts held back by the budget, alerts past --max-alerts', async () => {
    const budget = file('budget.json', JSON.stringify({ maxAlertsPerMinute: 1, alertCooldownSecs: 600 }));
    const p1 = file('p1.strace', 'ptrace(PTRACE_ATTACH, 1) = 0\n');
    const p2 = file('p2.strace', 'mount("x", "/y", "tmpfs", 0, NULL) = 0\n');
    const held = await runCli([
      'analyze',
      '--policy',
      'seed',
      '--format',
      'sarif',
      '--config',
      budget,
      p1,
      p2,
    ]);
    expect(held.code).toBe(1);
    const notes = expectValidSarif(held.stdout).runs[0]!.invocations[0]!.toolExecutionNotifications ?? [];
    expect(notes.map((n) => n.descriptor.id)).toContain('held-back');

    const strict = file('strict.json', JSON.stringify({ strictMode: true, maxAlertsPerMinute: 0 }));
    const many = file('many.strace', 'fstat(4, {st_mode=S_IFREG|0644, ...}) = 0\n'.repeat(5));
    const capped = await runCli([
      'analyze',
      '--policy',
      'seed',
      '--format',
      'sarif',
      '--config',
      strict,
      '--max-alerts',
      '2',
      many,
    ]);
    const log = expectValidSarif(capped.stdout);
    expect(log.runs[0]!.results).toHaveLength(2);
    const ids = (log.runs[0]!.invocations[0]!.toolExecutionNotifications ?? []).map((n) => n.descriptor.id);
    expect(ids).toContain('alerts-dropped');
  });
});
