/**
 * The profile shape: Docker/moby's `default.json` (profiles/seccomp/default.json), which
 * Docker, Podman, containerd and CRI-O (Kubernetes `seccompProfile: Localhost`) read.
 */
import { SyscanError } from '../../errors.js';
import { errnoNumber } from '../../syscalls/index.js';
import type { SeccompArchMapEntry } from './arches.js';

export type { SeccompArchMapEntry } from './arches.js';

/** Actions a profile may fall back to for calls it does not list. */
export const SECCOMP_DEFAULT_ACTIONS = [
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_KILL',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_LOG',
] as const;
export type SeccompDefaultAction = (typeof SECCOMP_DEFAULT_ACTIONS)[number];

export type SeccompRuleAction = 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';

/** One argument comparison (moby `Arg`): all of a rule's args must hold. */
export interface SeccompArg {
  index: number;
  value: number;
  /** For `SCMP_CMP_MASKED_EQ`: `(arg & value) == valueTwo`. */
  valueTwo?: number;
  op: 'SCMP_CMP_EQ' | 'SCMP_CMP_MASKED_EQ';
}

export interface SeccompSyscallRule {
  names: string[];
  action: SeccompRuleAction;
  /** errno for an `SCMP_ACT_ERRNO` rule. */
  errnoRet?: number;
  args?: SeccompArg[];
  /** Why the rule is there (moby's profiles carry the same field). */
  comment?: string;
}

/** A profile in moby's shape: either `archMap` (Docker's form) or `architectures` (the OCI form). */
export interface SeccompProfile {
  defaultAction: SeccompDefaultAction;
  /** errno of the default action when it is `SCMP_ACT_ERRNO`. */
  defaultErrnoRet?: number;
  archMap?: SeccompArchMapEntry[];
  architectures?: string[];
  syscalls: SeccompSyscallRule[];
}

export interface SeccompProfileOptions {
  /**
   * `minimal`: exactly the calls observed. `safe`: those plus what runc/crun call between
   * loading the filter and exec'ing the program (see RUNTIME_START_SYSCALLS). Defaults to `'minimal'`.
   */
  mode?: 'minimal' | 'safe' | undefined;
  /** What a call not in the profile gets, e.g. `SCMP_ACT_KILL_PROCESS` or `kill_process`. Defaults to `'SCMP_ACT_ERRNO'`. */
  defaultAction?: string | undefined;
  /** errno of `SCMP_ACT_ERRNO` by name (`EPERM`, `ENOSYS`) or number. Defaults to `'EPERM'` (1), as moby. */
  errno?: string | number | undefined;
  /** Argument filters for `socket` families, `personality` values, `clone` namespace flags. Defaults to `false`. */
  argFilters?: boolean | undefined;
  /** `archMap` (Docker/moby) or `architectures` (OCI config.json, runc/crun). Defaults to `'archMap'`. */
  archStyle?: 'archMap' | 'architectures' | undefined;
}

/** What building a profile saw, for people. */
export interface SeccompProfileStats {
  /** Syscall events read from traces. */
  events: number;
  traces: number;
  baselines: number;
  /** Distinct syscalls observed (traces and baselines). */
  observedSyscalls: number;
  /** Names added by `mode: 'safe'` that were not observed. */
  runtimeSyscalls: number;
  /** Arches the calls were made on. */
  arches: string[];
  /** Trace lines that could not be read. */
  parseIssues: number;
}

export interface SeccompProfileResult {
  profile: SeccompProfile;
  /** What the profile may miss or could not express (names left out, filters not made, unread lines); capped. */
  warnings: string[];
  stats: SeccompProfileStats;
}

const ERRNO_MAX = 4095;

/** The default action by its libseccomp name or short form (`kill_process`). */
export function resolveDefaultAction(value: string | undefined): SeccompDefaultAction {
  if (value === undefined) return 'SCMP_ACT_ERRNO';
  const upper = value.trim().toUpperCase();
  const name = upper.startsWith('SCMP_ACT_') ? upper : `SCMP_ACT_${upper}`;
  if ((SECCOMP_DEFAULT_ACTIONS as readonly string[]).includes(name)) return name as SeccompDefaultAction;
  if (name === 'SCMP_ACT_ALLOW')
    throw new SyscanError(
      'ERR_SYSCAN_CONFIG',
      'a default action of SCMP_ACT_ALLOW would allow every call; use SCMP_ACT_LOG to only log calls outside the profile',
    );
  throw new SyscanError(
    'ERR_SYSCAN_CONFIG',
    `unknown default action '${value}' (expected one of ${SECCOMP_DEFAULT_ACTIONS.join(', ')})`,
  );
}

/** An errno by name (`EPERM`) or number, as the positive number the profile holds. */
export function resolveErrno(value: string | number | undefined): number {
  if (value === undefined) return 1;
  if (typeof value === 'number' || /^\d+$/.test(value.trim())) {
    const n = Number(value);
    if (Number.isSafeInteger(n) && n >= 1 && n <= ERRNO_MAX) return n;
    throw new SyscanError('ERR_SYSCAN_CONFIG', `errno must be between 1 and ${ERRNO_MAX}, got ${value}`);
  }
  const n = errnoNumber(value.trim().toUpperCase());
  if (n === undefined || n > ERRNO_MAX)
    throw new SyscanError('ERR_SYSCAN_CONFIG', `unknown errno '${value}' (e.g. EPERM, EACCES, ENOSYS)`);
  return n;
}

/** Options checked and defaulted once; every problem is one sentence. */
export function resolveProfileOptions(options: SeccompProfileOptions): {
  defaultAction: SeccompDefaultAction;
  errno: number;
  mode: 'minimal' | 'safe';
  style: 'archMap' | 'architectures';
  argFilters: boolean;
} {
  const defaultAction = resolveDefaultAction(options.defaultAction);
  if (options.errno !== undefined && defaultAction !== 'SCMP_ACT_ERRNO')
    throw new SyscanError(
      'ERR_SYSCAN_CONFIG',
      `an errno applies only to the SCMP_ACT_ERRNO default action, not ${defaultAction}`,
    );
  const mode = options.mode ?? 'minimal';
  if (mode !== 'minimal' && mode !== 'safe')
    throw new SyscanError('ERR_SYSCAN_CONFIG', `mode must be 'minimal' or 'safe', got '${String(mode)}'`);
  const style = options.archStyle ?? 'archMap';
  if (style !== 'archMap' && style !== 'architectures')
    throw new SyscanError(
      'ERR_SYSCAN_CONFIG',
      `archStyle must be 'archMap' or 'architectures', got '${String(style)}'`,
    );
  return {
    defaultAction,
    errno: resolveErrno(options.errno),
    mode,
    style,
    argFilters: options.argFilters === true,
  };
}
