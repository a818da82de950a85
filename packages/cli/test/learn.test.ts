import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLines, runCli } from './helpers/cli.js';
import { straceInto } from './helpers/strace.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;
const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-learn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Traces `argv` with the real strace (-f), as a user would, into `dir/name`. */
function trace(name: string, argv: string[]): string {
  return straceInto(dir, name, argv);
}

describe.skipIf(!hasStrace)('learn → analyze round trip with real strace', () => {
  if (!hasStrace)
    it.skip('strace not installed (apt-get install strace); round-trip tests skipped', () => {});
  const baseline = join(dir, 'baseline.json');
  let runs: string[] = [];

  beforeAll(async () => {
    runs = [trace('ls-1.strace', ['ls', '-l', '/etc']), trace('cat-1.strace', ['cat', '/etc/hostname'])];
    const r = await runCli(['learn', ...runs, '-o', baseline]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^syscan: wrote '.*baseline\.json': \d+ syscalls from \d+ events/);
  });

  it('writes a pretty baseline with a trailing newline that merges both runs', () => {
    const text = readFileSync(baseline, 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "baselineSyscalls": [\n');
    const doc = JSON.parse(text);
    expect(doc.baselineSyscalls).toEqual(
      expect.arrayContaining(['execve', 'openat', 'getdents64', 'read', 'write']),
    );
    expect(doc.learned.merged).toBe(2);
    // Untimed traces (no -t/-tt/-ttt): no rate was seen, so none is a limit.
    expect(doc.maxTotalEventsPerMinute).toBe(0);
    expect(doc.ratesWithoutTimestamps).toBe(false);
  });

  it('learns the same baseline, byte for byte, from the same traces in any order', async () => {
    // Eight shells listing eight directories: enough distinct processes of each program (sh,
    // ls, cat) for five calibration folds, which used to follow the order of the files.
    const dirs = ['/etc', '/usr', '/var', '/tmp', '/bin', '/lib', '/opt', '/srv'];
    const shells = dirs.map((d, i) =>
      trace(`sh-${i}.strace`, ['sh', '-c', `ls -l ${d} >/dev/null; cat /etc/hostname`]),
    );
    const forward = await runCli(['learn', ...shells]);
    const backward = await runCli(['learn', ...[...shells].reverse()]);
    expect(forward.code, forward.stderr).toBe(0);
    const programs = Object.values(JSON.parse(forward.stdout).sequenceModel.programs) as Array<{
      calibration?: { method: string };
    }>;
    expect(programs.filter((p) => p.calibration?.method === 'out-of-fold').length).toBeGreaterThan(1);
    expect(backward.stdout).toBe(forward.stdout);
  });

  it('learn and seccomp refuse a trace the traced program wrote into (strace CMD 2>trace): it could teach them calls never made', async () => {
    // A "known-good" run that forges a ptrace line: learned, ptrace would pass from then on.
    const poison = [
      'import os',
      'n = 0',
      'while True:',
      '    data = (") = %d\\nptrace(PTRACE_ATTACH, 1) = 0\\ngetpid(" % n).encode()',
      '    if len(data) == n: break',
      '    n = len(data)',
      'os.write(2, data)',
    ].join('\n');
    const out = join(dir, 'poisoned.strace');
    const traced = spawnSync('bash', ['-c', `strace python3 -c '${poison}' 2> "${out}"`], {
      encoding: 'utf8',
    });
    expect(traced.status, traced.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^ptrace\(PTRACE_ATTACH, 1\) = 0$/m);
    const r = await runCli(['learn', out, '-o', join(dir, 'poisoned.json')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^syscan: '.*poisoned\.strace' holds the traced program's own output \(line \d+: its write comes back in the trace\): .*strace -o FILE\n$/,
    );
    expect(existsSync(join(dir, 'poisoned.json'))).toBe(false);
    const profile = await runCli(['seccomp', out]);
    expect(profile.code).toBe(2);
    expect(profile.stdout).toBe('');
    expect(profile.stderr).toMatch(/holds the traced program's own output .*teach the profile calls/);
  });

  it('learn takes a -o FILE trace of a program that sendfiles into its stderr: -o is the fix, and it cannot remove the call', async () => {
    const program = [
      'import os, tempfile',
      'p = tempfile.mktemp(); open(p, "w").write("note\\n"); f = os.open(p, os.O_RDONLY)',
      'os.sendfile(2, f, 0, 5)',
    ].join('\n');
    const out = join(dir, 'sendfile-o.strace');
    const traced = spawnSync('strace', ['-o', out, 'python3', '-c', program], { encoding: 'utf8' });
    expect(traced.status, traced.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^sendfile\(2, /m);
    const r = await runCli(['learn', out, '-o', join(dir, 'sendfile-o.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'sendfile-o.json'), 'utf8')).baselineSyscalls).toContain(
      'sendfile',
    );
  });

  it('--channel-weights sets the sequence model weights, and a channel it does not know is a usage error', async () => {
    const out = join(dir, 'weighted.json');
    const r = await runCli([
      'learn',
      '--channel-weights',
      'windowCost=1, mismatchRate=0, meanCost=1',
      '-o',
      out,
      ...runs,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const programs = Object.values(JSON.parse(readFileSync(out, 'utf8')).sequenceModel.programs) as Array<{
      calibration?: { weights: number[] };
    }>;
    const weights = programs.find((p) => p.calibration !== undefined)?.calibration?.weights;
    expect(weights?.[1]).toBe(1); // windowCost
    expect(weights?.[5]).toBe(0); // mismatchRate
    // The mean cost counts only for a program of 50 normal processes or more; these are a few.
    expect(weights?.[0]).toBe(0);
    const bad = await runCli(['learn', '--channel-weights', 'setDiff=0', ...runs]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(errorLines(bad.stderr)).toEqual([
      expect.stringMatching(/no channel 'setDiff' \(channels: meanCost, .*setDifference, callSetCosine\)/),
    ]);
  });

  it('learn says when a trace was filtered to some calls (strace -e trace=%file): the baseline knows only those', async () => {
    const out = join(dir, 'filtered.strace');
    const traced = spawnSync('strace', ['-f', '-o', out, '-e', 'trace=%file', 'ls', '/etc'], {
      encoding: 'utf8',
    });
    expect(traced.status, traced.stderr).toBe(0);
    const r = await runCli(['learn', out, '-o', join(dir, 'filtered.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^syscan: warning: the input leaves calls out \(it was traced with a filter: strace -e trace=…, -z, -Z or -P\), so the baseline knows only the calls the filter kept/m,
    );
    const whole = await runCli(['learn', runs[0]!, '-o', join(dir, 'whole.json')]);
    expect(whole.stderr).not.toMatch(/warning/);
    const profile = await runCli(['seccomp', out, '-o', join(dir, 'filtered-profile.json')]);
    expect(profile.code, profile.stderr).toBe(0);
    expect(profile.stderr).toMatch(
      /^syscan: warning: the input leaves calls out .*the profile allows only the calls the filter kept/m,
    );
  });

  it('writes to stdout without -o', async () => {
    const r = await runCli(['learn', runs[0]!]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).baselineSyscalls).toContain('getdents64');
  });

  it('a later run of the same kind is clean', async () => {
    const later = trace('ls-2.strace', ['ls', '-l', '/etc']);
    const r = await runCli(['analyze', '--baseline', baseline, later]);
    expect(r.stdout).toMatch(/^CLEAN/);
    expect(r.code).toBe(0);
    const cat = trace('cat-2.strace', ['cat', '/etc/hostname']);
    expect((await runCli(['analyze', '--baseline', baseline, cat])).code).toBe(0);
  });

  it('a new syscall still alerts', async () => {
    const other = trace('sleep.strace', ['sleep', '0.01']);
    const r = await runCli(['analyze', '--format', 'json', '--baseline', baseline, other]);
    expect(r.code).toBe(1);
    const alerts = JSON.parse(r.stdout).alerts as Array<{ type: string; syscall: string }>;
    expect(alerts.some((a) => a.type === 'unknown_syscall' && a.syscall === 'clock_nanosleep')).toBe(true);
  });

  it.skipIf(!isRoot || !hasSetpriv)(
    'a denial still alerts (setpriv to nobody reading /etc/shadow; needs root)',
    async () => {
      const denied = trace('shadow.strace', [
        'setpriv',
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        'cat',
        '/etc/shadow',
      ]);
      const r = await runCli(['analyze', '--format', 'json', '--baseline', baseline, denied]);
      expect(r.code).toBe(1);
      const doc = JSON.parse(r.stdout);
      expect(doc.alerts).toContainEqual(
        expect.objectContaining({ type: 'denied_syscall', syscall: 'openat' }),
      );
    },
  );
});

describe('examples/ (the Quick start)', () => {
  const examples = join(__dirname, '..', '..', '..', 'examples');
  it('the committed baseline is what syscan learn makes of examples/ls.strace', async () => {
    const r = await runCli(['learn', join(examples, 'ls.strace')]);
    expect(r.code).toBe(0);
    const fresh = JSON.parse(r.stdout);
    const committed = JSON.parse(readFileSync(join(examples, 'ls.baseline.json'), 'utf8'));
    expect(committed.baselineSyscalls).toEqual(fresh.baselineSyscalls);
  });

  it('the normal run is clean and the unusual one alerts', async () => {
    const base = join(examples, 'ls.baseline.json');
    expect((await runCli(['analyze', '-b', base, join(examples, 'ls-again.strace')])).code).toBe(0);
    const r = await runCli(['analyze', '--format', 'json', '-b', base, join(examples, 'ls-shadow.strace')]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).alerts).toContainEqual(
      expect.objectContaining({ type: 'denied_syscall', syscall: 'openat', severity: 'high' }),
    );
    // The text report's compact list of new syscalls says which programs made them.
    const text = await runCli(['analyze', '-b', base, join(examples, 'ls-shadow.strace')], {
      env: { NO_COLOR: '1' },
    });
    expect(text.stdout).toMatch(
      /\d+ syscalls not in baseline[^\n]*\n(?: {12}.*\n)+ {12}first made by sh \(\/usr\/bin\/sh\) for \d+, setpriv \(\/usr\/bin\/setpriv\) for \d+\n/,
    );
  });
});
