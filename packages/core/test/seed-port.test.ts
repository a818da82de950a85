/**
 * The seed's 16 unit tests (../shared/seed, `mod tests`), ported in spirit: same inputs, same
 * verdicts, same wording. The seed's Rust assertion is quoted above each.
 */
import { describe, expect, it } from 'vitest';
import { type AnomalyVerdict, parseSyscallEvents, SyscallAnomalyDetector } from '../src/index.js';

const messages = (v: AnomalyVerdict): string[] => {
  if (v.kind !== 'alert') throw new Error(`expected an alert verdict, got ${JSON.stringify(v)}`);
  return v.alerts.map((a) => a.message);
};

describe('seed parser tests', () => {
  it('parse_strace_basic', () => {
    const events = parseSyscallEvents('openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3');
    expect(events).toHaveLength(1);
    expect(events[0]!.syscall).toBe('openat');
    expect(events[0]!.denied).toBe(false);
  });

  it('parse_strace_denied', () => {
    const events = parseSyscallEvents(
      'openat(AT_FDCWD, "/root/.ssh/id_rsa", O_RDONLY) = -1 EACCES (Permission denied)',
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.syscall).toBe('openat');
    expect(events[0]!.denied).toBe(true);
  });

  it('parse_strace_eperm', () => {
    const events = parseSyscallEvents('kill(1234, SIGKILL) = -1 EPERM (Operation not permitted)');
    expect(events).toHaveLength(1);
    expect(events[0]!.syscall).toBe('kill');
    expect(events[0]!.denied).toBe(true);
  });

  it('parse_audit_line_with_number', () => {
    const events = parseSyscallEvents('type=SYSCALL msg=audit(1234): arch=c000003e syscall=59 success=yes');
    expect(events).toHaveLength(1);
    expect(events[0]!.syscall).toBe('execve');
    expect(events[0]!.denied).toBe(false);
  });

  it('parse_audit_line_denied', () => {
    const events = parseSyscallEvents('audit: seccomp syscall=101 action=blocked denied');
    expect(events).toHaveLength(1);
    expect(events[0]!.syscall).toBe('ptrace');
    expect(events[0]!.denied).toBe(true);
  });

  it('parse_audit_line_with_name', () => {
    const events = parseSyscallEvents('seccomp: syscall=connect denied');
    expect(events).toHaveLength(1);
    expect(events[0]!.syscall).toBe('connect');
    expect(events[0]!.denied).toBe(true);
  });

  it('parse_no_syscall_events', () => {
    expect(parseSyscallEvents('total 64\ndrwxr-xr-x 10 user staff 320 Feb 28 12:00 .\n')).toEqual([]);
  });

  it('parse_multiple_strace_lines', () => {
    const events = parseSyscallEvents('read(3, "hello", 5) = 5\nwrite(1, "hello", 5) = 5\nclose(3) = 0\n');
    expect(events.map((e) => e.syscall)).toEqual(['read', 'write', 'close']);
  });
});

describe('seed detector tests', () => {
  it('detector_clean_baseline_events', () => {
    // assert_eq!(verdict, AnomalyVerdict::Clean)
    const d = new SyscallAnomalyDetector();
    expect(d.analyze('read(3, "data", 1024) = 1024\nwrite(1, "output", 6) = 6\nclose(3) = 0\n')).toEqual({
      kind: 'clean',
    });
  });

  it('detector_flags_unknown_syscall', () => {
    // alerts.iter().any(|a| a.contains("ptrace"))
    const d = new SyscallAnomalyDetector();
    const v = d.analyze('ptrace(PTRACE_ATTACH, 1234) = 0');
    expect(messages(v)).toContain("unknown syscall 'ptrace' not in baseline");
    // ptrace is on the default dangerous list: the one thing the seed could not say.
    expect(v.kind === 'alert' && v.alerts[0]!.severity).toBe('critical');
  });

  it('detector_flags_denied_event', () => {
    // alerts.iter().any(|a| a.contains("denied"))
    const d = new SyscallAnomalyDetector();
    const v = d.analyze('openat(AT_FDCWD, "/root/.ssh/id_rsa", O_RDONLY) = -1 EACCES (Permission denied)');
    expect(messages(v)).toEqual(['denied syscall: openat']);
  });

  it('detector_disabled_always_clean', () => {
    const d = new SyscallAnomalyDetector({ enabled: false });
    expect(d.analyze('ptrace(PTRACE_ATTACH, 1234) = 0')).toEqual({ kind: 'clean' });
  });

  it('detector_alert_budget_exhaustion', () => {
    // max_alerts_per_minute: 2, alert_cooldown_secs: 10 → Alert, Alert, Suppressed("…budget exhausted…")
    const d = new SyscallAnomalyDetector({ maxAlertsPerMinute: 2, alertCooldownSecs: 10, now: () => 1000 });
    const bad = 'ptrace(PTRACE_ATTACH, 1234) = 0';
    expect(d.analyze(bad).kind).toBe('alert');
    expect(d.analyze(bad).kind).toBe('alert');
    const v = d.analyze(bad);
    expect(v).toMatchObject({
      kind: 'suppressed',
      reason: 'alert budget exhausted (2/min), cooldown 10s',
      heldBack: 1,
      retryAfterMs: 10_000,
    });
    expect(d.analyze(bad)).toMatchObject({ kind: 'suppressed', reason: 'alert cooldown active' });
  });

  it('detector_reset_clears_state', () => {
    const d = new SyscallAnomalyDetector();
    d.analyze('ptrace(PTRACE_ATTACH, 1234) = 0');
    expect(d.syscallCounts().size).toBeGreaterThan(0);
    d.reset();
    expect(d.syscallCounts().size).toBe(0);
  });

  it('detector_no_alert_when_unknown_disabled', () => {
    const d = new SyscallAnomalyDetector({ alertOnUnknownSyscall: false });
    expect(d.analyze('connect(3, {sa_family=AF_INET}, 16) = 0')).toEqual({ kind: 'clean' });
  });

  it('detector_denied_rate_limit', () => {
    // max_denied_events_per_minute: 2 → third denied call alerts "denied event rate"
    const d = new SyscallAnomalyDetector({ maxDeniedEventsPerMinute: 2, now: () => 0 });
    const denied = 'openat(AT_FDCWD, "/secret", O_RDONLY) = -1 EACCES (Permission denied)';
    d.analyze(denied);
    d.analyze(denied);
    expect(messages(d.analyze(denied))).toEqual([
      'denied syscall: openat',
      'denied event rate 3 exceeds limit 2/min',
    ]);
  });
});
