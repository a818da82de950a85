/**
 * What a policy says must be refused at syscall *entry*: calls that alert at or above the
 * enforcement threshold whenever they occur, whatever their arguments. A tracer that can
 * inject errors (strace `-e inject=…`) refuses them before they run, where killing after
 * the trace line is read would let the call complete first.
 */
import { type DetectorConfig, type ResolvedDetectorConfig, resolveDetectorConfig } from '../detect/config.js';
import { atLeast } from '../severity.js';
import type { Severity } from '../types.js';

/** Syscall names are lower-case words; anything else would make a tracer refuse to start. */
const SYSCALL_NAME = /^[a-z0-9_]{1,40}$/;

/**
 * Forbidden syscalls (when their configured severity reaches `failOn`), and dangerous ones
 * outside the baseline (always critical), sorted. Empty when the detector is disabled.
 */
export function refusedAtEntry(
  config: DetectorConfig | ResolvedDetectorConfig,
  failOn: Severity,
  extra: Iterable<string> = [],
): string[] {
  const c = resolveDetectorConfig(config);
  if (!c.enabled) return [];
  const out = new Set<string>(extra);
  if (atLeast(c.severity.forbidden_syscall, failOn)) for (const s of c.forbiddenSyscalls) out.add(s);
  if (c.alertOnUnknownSyscall && atLeast('critical', failOn)) {
    const baseline = new Set(c.baselineSyscalls);
    for (const s of c.dangerousSyscalls) if (!baseline.has(s)) out.add(s);
  }
  return [...out].filter((s) => SYSCALL_NAME.test(s)).sort();
}

/**
 * The only syscalls to let run, when the policy alerts at or above `failOn` on every other
 * one whatever its arguments: unknown syscalls (outside the baseline, and outside every listed
 * program's baseline too, since a call known to any program may be that program's) at a
 * severity that reaches `failOn`. A tracer refuses the rest at entry, so that a stager's first
 * `socket` never returns a socket to `sendto` on. Undefined when the policy is not that.
 */
export function onlyAllowedAtEntry(
  config: DetectorConfig | ResolvedDetectorConfig,
  failOn: Severity,
): string[] | undefined {
  const c = resolveDetectorConfig(config);
  if (!c.enabled || !c.alertOnUnknownSyscall || !atLeast(c.severity.unknown_syscall, failOn))
    return undefined;
  const known = new Set(c.baselineSyscalls);
  for (const program of Object.values(c.programs)) for (const s of program.baselineSyscalls) known.add(s);
  // A name strace could not take is left out: no call of it can be let run by name anyway.
  return [...known].filter((s) => SYSCALL_NAME.test(s)).sort();
}
