import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DetectorConfig, parseSyscallEvents } from '@syscan/core';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type GuardVerdict, PROBLEM_TYPES, syscanGuard } from '../src/index.js';
import { request } from './helpers/http.js';
import { listen, type Running } from './helpers/server.js';

/** Why real `strace -f` runs cannot be made here, or undefined when they can. */
function straceSkipReason(): string | undefined {
  const probe = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '--', 'true'], { encoding: 'utf8' });
  if (probe.error) return 'strace is not installed (apt-get install strace)';
  if (probe.status !== 0) return `strace cannot trace here: ${probe.stderr.trim().split('\n')[0]}`;
  return undefined;
}
const skipReason = straceSkipReason();

/**
 * A tool response's trace is a whole run, judged as `syscan analyze` judges a file: a
 * followed `strace -f` process that has no exit record by the end was not seen to its end
 * (strace killed, the trace read before strace finished writing it, its tail left out), so
 * the response is withheld with `trace_lost`, never passed as clean. Before, the guard read
 * such a trace cut at a line boundary as a clean, shorter run.
 */
describe.skipIf(skipReason !== undefined)('the guard judges a response trace as a whole run', () => {
  if (skipReason) it.skip(`whole-run guard tests skipped: ${skipReason}`, () => {});
  let dir: string;
  let whole: string;
  let baseline: DetectorConfig;
  let running: Running | undefined;

  /** `strace -f -o FILE -- argv`: the trace's text (the command's own status is not asked). */
  function trace(name: string, argv: string[]): string {
    const out = join(dir, name);
    const r = spawnSync('strace', ['-f', '-o', out, '--', ...argv], { encoding: 'utf8', timeout: 20_000 });
    if (r.error) throw r.error;
    return readFileSync(out, 'utf8');
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'syscan-guard-whole-run-'));
    // A shell that runs two children: exit records for all three processes.
    whole = trace('whole.strace', ['sh', '-c', 'cat /etc/hostname >/dev/null; ls / >/dev/null']);
    baseline = {
      baselineSyscalls: [...new Set(parseSyscallEvents(whole).map((e) => e.syscall))],
      maxTotalEventsPerMinute: 0,
      maxDeniedEventsPerMinute: 0,
    };
  });
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The whole alerts of the guard's verdicts (the 403's problem body carries only their public part). */
  const alertsOf = (verdicts: GuardVerdict[]) =>
    verdicts.flatMap((v) => (v.kind === 'alert' ? v.alerts : []));

  async function serve(traceOf: () => string) {
    const verdicts: GuardVerdict[] = [];
    const guard = syscanGuard({ detector: baseline, onVerdict: (v) => void verdicts.push(v) });
    const app = express();
    app.post('/tools/shell', express.json(), guard, (_req, res) => {
      res.json({ exitCode: 0, stdout: 'done\n', trace: traceOf() });
    });
    running = await listen(app);
    return { verdicts, post: () => request(`${running!.url}/tools/shell`, { body: {} }) };
  }

  it('the whole run passes', async () => {
    const { post } = await serve(() => whole);
    const r = await post();
    expect(r.status).toBe(200);
    expect(r.headers['syscan-verdict']).toBe('clean');
  });

  it('the same run cut at a line boundary, the shell with no exit record, is withheld and names the shell', async () => {
    const lines = whole.split('\n');
    const shellPid = lines[0]!.split(/\s+/)[0];
    // Everything up to (not including) the shell's own exit_group: its children's exits stay.
    const lastOfShell = lines.findLastIndex((l) => l.startsWith(`${shellPid} `) && l.includes('exit_group('));
    expect(lastOfShell).toBeGreaterThan(0);
    const cut = `${lines.slice(0, lastOfShell).join('\n')}\n`;
    const { post, verdicts } = await serve(() => cut);
    const r = await post();
    expect(r.status).toBe(403);
    expect(r.headers['syscan-verdict']).toBe('alert');
    expect(r.json.type).toBe(PROBLEM_TYPES.anomalousOutput);
    expect(r.json.alerts).toContainEqual(
      expect.objectContaining({
        type: 'trace_lost',
        message: expect.stringMatching(/without an exit record/),
      }),
    );
    expect(alertsOf(verdicts)).toContainEqual(
      expect.objectContaining({
        type: 'trace_lost',
        severity: 'critical',
        pid: Number(shellPid),
        process: expect.objectContaining({ comm: 'sh', argv: expect.arrayContaining(['sh', '-c']) }),
        details: expect.objectContaining({ reason: 'missing_exit' }),
      }),
    );
  });

  // A command that forges lines into a trace it shares stderr with (a tool capturing both):
  // its text closes strace's line for its own write and adds a chdir that never happened, so
  // the relative open of /etc/shadow would read as /tmp/shadow. It writes the text with
  // write, or through calls that first slipped past: Node gives a child's stderr as a socket,
  // so sendmsg works on it, and sendfile moves bytes the trace never shows.
  for (const [how, send, reason] of [
    ['write', 'os.write(2, data)', 'program_output_in_trace'],
    ['sendmsg', 'socket.socket(fileno=os.dup(2)).sendmsg([data])', 'program_output_in_trace'],
    [
      'sendfile',
      'p = tempfile.mktemp(); open(p, "wb").write(data); f = os.open(p, os.O_RDONLY); os.sendfile(2, f, 0, len(data))',
      'program_output_unseen',
    ],
  ]) {
    it(`a command that forges lines with ${how} into a trace it shares stderr with is withheld`, async () => {
      const forger = [
        'import os, socket, tempfile',
        'n = 0',
        'while True:',
        '    data = (") = %d\\nchdir(\\"/tmp\\") = 0\\ngetpid(" % n).encode()',
        '    if len(data) == n: break',
        '    n = len(data)',
        'os.chdir("/etc")',
        send,
        'try: os.open("shadow", os.O_RDONLY)',
        'except OSError: pass',
      ].join('\n');
      // The tool runs `strace CMD` and returns the command's stderr, strace's lines in it.
      const run = spawnSync('strace', ['python3', '-c', forger], { encoding: 'utf8', timeout: 20_000 });
      expect(run.stderr).toMatch(/^chdir\("\/tmp"\) = 0$/m);
      const app = express();
      const verdicts: GuardVerdict[] = [];
      app.post(
        '/tools/shell',
        express.json(),
        syscanGuard({ onVerdict: (v) => void verdicts.push(v) }),
        (_req, res) => {
          res.json({ exitCode: run.status, stdout: '', stderr: run.stderr });
        },
      );
      running = await listen(app);
      const r = await request(`${running.url}/tools/shell`, { body: {} });
      expect(r.status).toBe(403);
      expect(alertsOf(verdicts)).toContainEqual(
        expect.objectContaining({
          type: 'trace_lost',
          syscall: how,
          details: expect.objectContaining({ reason }),
        }),
      );
    });
  }

  it('a tool that traces with -o FILE says so (ownStream): a sendfile into stderr is then no reason to withhold', async () => {
    const copy = trace('sendfile-o.strace', [
      'python3',
      '-c',
      'import os, tempfile; p = tempfile.mktemp(); open(p, "w").write("note\\n"); os.sendfile(2, os.open(p, os.O_RDONLY), 0, 5)',
    ]);
    expect(copy).toMatch(/sendfile\(2, /);
    const reasons = async (ownStream: boolean) => {
      const verdicts: GuardVerdict[] = [];
      const app = express();
      app.post(
        '/tools/shell',
        express.json(),
        syscanGuard({ ownStream, onVerdict: (v) => void verdicts.push(v) }),
        (_req, res) => {
          res.json({ exitCode: 0, trace: copy });
        },
      );
      running = await listen(app);
      await request(`${running.url}/tools/shell`, { body: {} });
      await running.close();
      running = undefined;
      return alertsOf(verdicts).map((a) => a.details?.reason);
    };
    expect(await reasons(false)).toContain('program_output_unseen');
    expect(await reasons(true)).not.toContain('program_output_unseen');
  });

  it('a command that kills its tracer and goes on untraced is withheld', async () => {
    // /bin/true leaves an exit record; then python3 SIGKILLs strace (its parent) and reads a
    // file nobody sees.
    const hostile = trace('hostile.strace', [
      'sh',
      '-c',
      '/bin/true; exec python3 -c "import os,time; os.kill(os.getppid(), 9); time.sleep(0.1); open(\'/etc/passwd\').read()"',
    ]);
    const { post, verdicts } = await serve(() => hostile);
    const r = await post();
    expect(r.status).toBe(403);
    expect(alertsOf(verdicts)).toContainEqual(
      expect.objectContaining({
        type: 'trace_lost',
        details: expect.objectContaining({ reason: 'missing_exit' }),
      }),
    );
  });
});
