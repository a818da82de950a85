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
