/**
 * Observed calls → the profile's `syscalls` rules: the plain allow list, the runtime's
 * start-up calls (`safe`), and argument-filtered rules for `socket`, `personality` and
 * `clone` where the trace showed their arguments.
 */
import { type ArchName, syscallNumber } from '../../syscalls/index.js';
import { type ArgValues, CLONE_NAMESPACE_MASK, type FlagUnion } from './arg-filters.js';
import { runtimeStartSyscalls } from './runtime-syscalls.js';
import type { SeccompSyscallRule } from './types.js';

/** What the builder observed, as the rules need it. */
export interface ObservedCalls {
  names: ReadonlySet<string>;
  socket: ArgValues;
  personality: ArgValues;
  clone: FlagUnion;
}

export interface RuleOptions {
  safe: boolean;
  argFilters: boolean;
  /** Every arch the filter covers (natives and sub-arches). */
  arches: readonly ArchName[];
}

/** ENOSYS: what glibc's clone3 wrapper needs to see to fall back to clone (as moby answers). */
const ENOSYS = 38;

export function buildRules(
  observed: ObservedCalls,
  options: RuleOptions,
): { rules: SeccompSyscallRule[]; runtimeAdded: number; notes: string[] } {
  const notes: string[] = [];
  const plain = new Set(observed.names);
  const runtime = new Set<string>();
  if (options.safe) {
    for (const name of runtimeStartSyscalls()) {
      // A name no covered arch has (arch_prctl on aarch64) would only make runtimes warn.
      if (plain.has(name) || !options.arches.some((a) => syscallNumber(name, a) !== undefined)) continue;
      runtime.add(name);
    }
  }
  const filtered: SeccompSyscallRule[] = [];
  if (options.argFilters) {
    const all = new Set([...plain, ...runtime]);
    filtered.push(...valueRules('socket', 0, observed.socket, all, notes));
    filtered.push(...valueRules('personality', 0, observed.personality, all, notes));
    filtered.push(...cloneRules(observed.clone, all, options.arches, notes));
    for (const rule of filtered) {
      for (const name of rule.names) {
        plain.delete(name);
        runtime.delete(name);
      }
    }
  }
  const rules: SeccompSyscallRule[] = [];
  if (plain.size > 0) rules.push({ names: [...plain].sort(), action: 'SCMP_ACT_ALLOW' });
  if (runtime.size > 0) {
    rules.push({
      names: [...runtime].sort(),
      action: 'SCMP_ACT_ALLOW',
      comment:
        'not observed: what runc and crun call after loading the filter and before exec (syscan RUNTIME_START_SYSCALLS)',
    });
  }
  rules.push(...filtered);
  return { rules, runtimeAdded: runtime.size, notes };
}

/** One rule per value seen, on argument `index` (moby's `personality` rules have this form). */
function valueRules(
  name: string,
  index: number,
  values: ArgValues,
  names: ReadonlySet<string>,
  notes: string[],
): SeccompSyscallRule[] {
  if (!names.has(name)) return [];
  if (values.unreadable || values.values.size === 0) {
    notes.push(`${name}: no argument filter (${values.unreadableWhy ?? 'no call with arguments seen'})`);
    return [];
  }
  return [...values.values]
    .sort((a, b) => a - b)
    .map((value) => ({
      names: [name],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index, value, op: 'SCMP_CMP_EQ' }],
    }));
}

/**
 * `clone` allowed only without the namespace flags the trace never used:
 * `(flags & mask) == 0`, moby's own form. `clone3` passes its flags in a struct seccomp
 * cannot read, so it answers ENOSYS and libc falls back to `clone`, which is filtered.
 */
function cloneRules(
  flags: FlagUnion,
  names: ReadonlySet<string>,
  arches: readonly ArchName[],
  notes: string[],
): SeccompSyscallRule[] {
  if (!names.has('clone') && !names.has('clone3')) return [];
  if (flags.unreadable) {
    notes.push(`clone: no argument filter (${flags.unreadableWhy})`);
    return [];
  }
  if (arches.some((a) => a === 's390' || a === 's390x')) {
    // s390 clone takes (stack, flags): one index cannot serve every arch of the filter.
    notes.push(
      'clone: no argument filter (s390 passes clone flags in another argument than the other arches)',
    );
    return [];
  }
  const mask = (CLONE_NAMESPACE_MASK & ~flags.used) >>> 0;
  if (mask === 0) {
    notes.push('clone: no argument filter (every namespace flag was used)');
    return [];
  }
  const rules: SeccompSyscallRule[] = [
    {
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: mask, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      comment: 'clone without the namespace flags the traced runs never used',
    },
  ];
  if (names.has('clone3')) {
    rules.push({
      names: ['clone3'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: ENOSYS,
      comment: 'clone3 flags cannot be filtered: ENOSYS makes libc fall back to the filtered clone',
    });
  }
  return rules;
}
