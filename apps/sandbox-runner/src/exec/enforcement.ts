/**
 * What enforcement stops a run for, and what monitor mode (`dryRun`) reports instead of
 * stopping it. The run asks `breaches(alert)`; under enforce it kills, in monitor mode it
 * notes the first breach here, and the result carries `report()`.
 */
import { type Alert, atLeast, OVERFLOW_SYSCALL_KEY, type Severity } from '@syscan/core';
import type { DryRunReport, WouldKill } from './types.js';

export class Enforcement {
  readonly failOn: Severity;
  /** Computed: enforce or monitor mode. */
  readonly judging: boolean;
  /** Applied: enforce and not monitor mode. */
  readonly applied: boolean;
  readonly dryRun: boolean;
  /** Syscalls refused at entry (given to strace only when applied). */
  readonly preempted: ReadonlySet<string>;
  /**
   * When every call outside a baseline kills (unknown syscalls at `failOn` or above), the only
   * calls let run: strace refuses every other at entry, so none of them runs. Undefined else.
   */
  readonly allowOnly: ReadonlySet<string> | undefined;
  #wouldKill: WouldKill | null = null;

  constructor(o: {
    enforce: boolean;
    dryRun: boolean;
    failOn: Severity;
    refusedAtEntry: () => string[];
    onlyAllowedAtEntry?: () => string[] | undefined;
  }) {
    this.failOn = o.failOn;
    this.dryRun = o.dryRun;
    this.judging = o.enforce || o.dryRun;
    this.applied = this.judging && !o.dryRun;
    this.preempted = new Set(this.judging ? o.refusedAtEntry() : []);
    const allowed = this.judging ? o.onlyAllowedAtEntry?.() : undefined;
    this.allowOnly = allowed === undefined ? undefined : new Set(allowed);
  }

  /** Whether strace refuses `syscall` at entry under this policy (when applied). */
  refusesAtEntry(syscall: string): boolean {
    return this.preempted.has(syscall) || (this.allowOnly !== undefined && !this.allowOnly.has(syscall));
  }

  /**
   * Any alert at or above `failOn`; a rule alert whose action is `kill`, whatever its
   * priority; a `deny` rule's call that strace refuses at entry (it kills the caller, so the
   * run ends by policy whatever the rule's priority).
   */
  breaches(alert: Alert): boolean {
    if (!this.judging) return false;
    if (atLeast(alert.severity, this.failOn)) return true;
    if (alert.type !== 'rule') return false;
    if (alert.action === 'kill') return true;
    return alert.action === 'deny' && alert.syscall !== undefined && this.refusesAtEntry(alert.syscall);
  }

  /** Monitor mode: keeps the first breach, the kill that was not made. */
  wouldHaveKilled(alert: Alert | undefined, message: string): void {
    this.#wouldKill ??= {
      ...(alert?.rule !== undefined ? { rule: alert.rule } : {}),
      ...(alert !== undefined ? { type: alert.type, severity: alert.severity } : {}),
      ...(alert?.action !== undefined ? { action: alert.action } : {}),
      message,
      ...(alert?.syscall !== undefined ? { syscall: alert.syscall } : {}),
      ...(alert?.sample !== undefined ? { sample: alert.sample } : {}),
    };
  }

  /** The kill not made and the calls not refused (`syscalls`: the run's calls per name). */
  report(syscalls: Readonly<Record<string, number>>): DryRunReport {
    const wouldRefuseAtEntry = [...this.preempted].sort();
    const refusableCalls: Record<string, number> = {};
    // `(other)` holds the calls of names past the summary's cap: not one name, nor known to be refused.
    for (const [name, n] of Object.entries(syscalls))
      if (n > 0 && name !== OVERFLOW_SYSCALL_KEY && this.refusesAtEntry(name)) refusableCalls[name] = n;
    const report: DryRunReport = { wouldKill: this.#wouldKill, wouldRefuseAtEntry, refusableCalls };
    if (this.allowOnly !== undefined) report.wouldAllowOnly = [...this.allowOnly].sort();
    return report;
  }
}
