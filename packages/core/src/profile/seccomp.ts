/**
 * Seccomp profiles from what known-good runs did: the syscalls of one or many traces
 * and/or learned baselines, merged, in Docker/moby's `default.json` shape, for Docker,
 * Podman, containerd, CRI-O (Kubernetes `seccompProfile: Localhost`), runc and crun.
 *
 * Each call is attributed to the ABI it was made in: audit's `arch=`, strace's
 * `[ Process PID=N runs in 32 bit mode. ]` notices (per pid), strace `-n` numbers that only
 * match a compat table, or names only a compat ABI has (`mmap2`, `_llseek`); everything
 * else to the host arch the traces were recorded on.
 */
import { SyscanError } from '../errors.js';
import { type ArchName, resolveArch, syscallName, syscallNumber } from '../syscalls/index.js';
import type { ParsedRecord, SyscallEvent } from '../types.js';
import { archesOf, buildArchMap, compatArches, flattenArchMap, personalityArch } from './seccomp/arches.js';
import {
  ArgValues,
  cloneNamespaceFlags,
  FlagUnion,
  personalityValue,
  socketFamily,
} from './seccomp/arg-filters.js';
import { buildRules } from './seccomp/rules.js';
import {
  resolveProfileOptions,
  type SeccompProfile,
  type SeccompProfileOptions,
  type SeccompProfileResult,
} from './seccomp/types.js';

export interface SeccompBuilderOptions {
  /** The arch traces without an arch of their own were recorded on. Defaults to `'x86_64'`. */
  hostArch?: string | undefined;
  /** Most distinct syscall names kept. Defaults to `4096` (every arch has fewer than 1000). */
  maxSyscalls?: number | undefined;
}

/** pids whose ABI is remembered at once (a long `-f` trace forks many; the oldest is forgotten). */
const MAX_TRACKED_PIDS = 65_536;
/** Distinct unknown names reported; more are counted. */
const MAX_UNKNOWN_NAMES = 32;
const MAX_WARNINGS = 50;

/** Builds a profile from records fed in batches as they are parsed (memory does not grow with trace size). */
export class SeccompProfileBuilder {
  readonly hostArch: ArchName;
  readonly #maxSyscalls: number;
  readonly #names = new Set<string>();
  readonly #arches = new Set<ArchName>();
  readonly #pidArch = new Map<number, ArchName>();
  /** The ABI of lines without a pid (strace of one process prints none): the last notice's. */
  #unprefixedArch: ArchName | undefined;
  readonly #socket = new ArgValues();
  readonly #personality = new ArgValues();
  readonly #clone = new FlagUnion();
  /** Unknown name → where first seen. */
  readonly #unknown = new Map<string, string>();
  #unknownCount = 0;
  #droppedNames = 0;
  #events = 0;
  #traces = 0;
  #baselines = 0;
  #issues = 0;
  #firstIssueLine: number | undefined;

  /** @throws SyscanError `ERR_SYSCAN_CONFIG` for an unknown host arch or a bad cap. */
  constructor(options: SeccompBuilderOptions = {}) {
    const host = resolveArch(options.hostArch ?? 'x86_64');
    if (host === undefined)
      throw new SyscanError('ERR_SYSCAN_CONFIG', `unknown arch '${options.hostArch}' (e.g. x86_64, aarch64)`);
    const max = options.maxSyscalls ?? 4096;
    if (!Number.isSafeInteger(max) || max < 1)
      throw new SyscanError('ERR_SYSCAN_CONFIG', `maxSyscalls must be a positive integer, got ${max}`);
    this.hostArch = host;
    this.#maxSyscalls = max;
  }

  /** Syscall events read so far. */
  get events(): number {
    return this.#events;
  }

  /** Starts another trace: its pids are other processes than the last one's. */
  beginTrace(): void {
    this.#pidArch.clear();
    this.#unprefixedArch = undefined;
    this.#traces++;
  }

  /** Takes parsed records (any kind; only syscalls, ABI notices and parse issues matter) into account. */
  observe(records: ParsedRecord | Iterable<ParsedRecord>): void {
    if (this.#traces === 0) this.#traces = 1;
    if (typeof (records as ParsedRecord).kind === 'string') this.#one(records as ParsedRecord);
    else for (const r of records as Iterable<ParsedRecord>) this.#one(r);
  }

  /**
   * Adds a learned baseline's syscalls (a `syscan learn` file, or any object with
   * `baselineSyscalls`). A baseline names no arch or arguments: its calls count as the
   * host arch's, and filters on calls it names are not made.
   *
   * @throws SyscanError `ERR_SYSCAN_CONFIG` when it has no `baselineSyscalls` list of names.
   */
  addBaseline(baseline: unknown, label = 'baseline'): void {
    const list = (baseline as { baselineSyscalls?: unknown } | null)?.baselineSyscalls;
    if (!Array.isArray(list) || list.some((n) => typeof n !== 'string'))
      throw new SyscanError(
        'ERR_SYSCAN_CONFIG',
        `${label}: baselineSyscalls must be a list of syscall names (is it a baseline from 'syscan learn'?)`,
      );
    this.#baselines++;
    for (const name of list as string[]) {
      const hit = this.#resolve(name, undefined, this.hostArch, true);
      if (hit === undefined) {
        this.#unknownName(name, `${label}`);
        continue;
      }
      this.#arches.add(hit.arch);
      this.#addName(hit.name);
      const why = `${label} names it without arguments`;
      if (hit.name === 'socket') this.#socket.markUnreadable(why);
      else if (hit.name === 'personality') this.#personality.markUnreadable(why);
      else if (hit.name === 'clone' || hit.name === 'clone3') this.#clone.markUnreadable(why);
    }
  }

  /** The profile of everything observed so far. @throws SyscanError for bad options or nothing observed. */
  toProfile(options: SeccompProfileOptions = {}): SeccompProfileResult {
    const { defaultAction, errno, mode, style, argFilters } = resolveProfileOptions(options);
    if (this.#names.size === 0)
      throw new SyscanError(
        'ERR_SYSCAN_INPUT',
        'no syscalls observed: nothing to build a profile from (is it strace or audit output, or a baseline?)',
        { reason: 'no_telemetry' },
      );

    const warnings: string[] = [];
    const { archMap, unnamed } = buildArchMap(this.#arches, this.hostArch);
    for (const arch of unnamed)
      warnings.push(
        `${arch} is not in the profile: libseccomp has no name for it (a runtime refuses its calls as a foreign arch)`,
      );
    if (archMap.length === 0)
      throw new SyscanError(
        'ERR_SYSCAN_INPUT',
        `no arch seen that libseccomp can name (${unnamed.join(', ')})`,
      );
    const { rules, runtimeAdded, notes } = buildRules(
      { names: this.#names, socket: this.#socket, personality: this.#personality, clone: this.#clone },
      { safe: mode === 'safe', argFilters, arches: archesOf(archMap) },
    );
    warnings.push(...notes, ...this.#inputWarnings());

    // Key order as in moby's default.json.
    const profile: SeccompProfile = {
      defaultAction,
      ...(defaultAction === 'SCMP_ACT_ERRNO' ? { defaultErrnoRet: errno } : {}),
      ...(style === 'archMap' ? { archMap } : { architectures: flattenArchMap(archMap) }),
      // A rule that does what the default does is noise (runc skips it; libseccomp refuses it).
      syscalls: rules.filter(
        (r) => !(r.action === 'SCMP_ACT_ERRNO' && defaultAction === 'SCMP_ACT_ERRNO' && r.errnoRet === errno),
      ),
    };
    return {
      profile,
      warnings: cap(warnings),
      stats: {
        events: this.#events,
        traces: this.#traces,
        baselines: this.#baselines,
        observedSyscalls: this.#names.size,
        runtimeSyscalls: runtimeAdded,
        arches: [...this.#arches].sort(),
        parseIssues: this.#issues,
      },
    };
  }

  #inputWarnings(): string[] {
    const out: string[] = [];
    if (this.#unknown.size > 0) {
      const list = [...this.#unknown].map(([n, where]) => `${n} (${where})`).join(', ');
      const more =
        this.#unknownCount > this.#unknown.size ? ` and ${this.#unknownCount - this.#unknown.size} more` : '';
      out.push(`left out syscall names no arch table knows: ${list}${more}`);
    }
    if (this.#droppedNames > 0)
      out.push(
        `${this.#droppedNames} distinct syscall names past the cap of ${this.#maxSyscalls} were left out`,
      );
    if (this.#issues > 0)
      out.push(
        `${this.#issues} trace line(s) could not be read (first: line ${this.#firstIssueLine ?? '?'}); calls on them are not in the profile`,
      );
    return out;
  }

  #one(r: ParsedRecord): void {
    if (r.kind === 'syscall') this.#syscall(r);
    else if (r.kind === 'tracer') {
      if (r.pid === undefined || !r.raw.includes(' mode')) return;
      const arch = personalityArch(r.raw, this.hostArch);
      if (arch === undefined) return;
      this.#rememberPid(r.pid, arch);
      this.#unprefixedArch = arch;
    } else if (r.kind === 'issue') {
      this.#issues++;
      this.#firstIssueLine ??= r.line;
    }
  }

  #syscall(e: SyscallEvent): void {
    this.#events++;
    const known = e.arch !== undefined ? resolveArch(e.arch) : undefined;
    const arch =
      known ?? (e.pid === undefined ? this.#unprefixedArch : this.#pidArch.get(e.pid)) ?? this.hostArch;
    // Only a call with no arch of its own may be re-attributed to a compat ABI.
    const hit = this.#resolve(e.syscall, e.nr, arch, known === undefined);
    if (hit === undefined) {
      this.#unknownName(e.syscall, e.line === undefined ? e.source : `line ${e.line}`);
      return;
    }
    if (hit.arch !== arch && e.pid !== undefined) this.#rememberPid(e.pid, hit.arch);
    this.#arches.add(hit.arch);
    this.#addName(hit.name);
    switch (hit.name) {
      case 'socket':
        this.#socket.add(socketFamily(e), e.line);
        break;
      case 'personality':
        this.#personality.add(personalityValue(e), e.line);
        break;
      case 'clone':
        this.#clone.add(cloneNamespaceFlags(e, hit.arch === 's390' || hit.arch === 's390x' ? 1 : 0), e.line);
        break;
      case 'clone3':
        this.#clone.add(cloneNamespaceFlags(e, 0), e.line);
        break;
    }
  }

  /**
   * The kernel name of `name` on `arch` (strace's `syscall_0x1b6` and audit's own names
   * resolved through the number), checked against `nr` when the input printed one; with
   * `compat`, the host's compat ABIs are tried when `arch` has no such call.
   */
  #resolve(
    name: string,
    nr: number | undefined,
    arch: ArchName,
    compat: boolean,
  ): { name: string; arch: ArchName } | undefined {
    const direct = canonicalName(name, nr, arch);
    if (direct !== undefined || !compat) return direct === undefined ? undefined : { name: direct, arch };
    for (const c of compatArches(this.hostArch)) {
      if (c === arch) continue;
      const n = canonicalName(name, nr, c);
      if (n !== undefined) return { name: n, arch: c };
    }
    return undefined;
  }

  #addName(name: string): void {
    if (this.#names.has(name)) return;
    if (this.#names.size < this.#maxSyscalls) this.#names.add(name);
    else this.#droppedNames++;
  }

  #unknownName(name: string, where: string): void {
    if (this.#unknown.has(name)) return;
    this.#unknownCount++;
    if (this.#unknown.size < MAX_UNKNOWN_NAMES) this.#unknown.set(name, where);
  }

  #rememberPid(pid: number, arch: ArchName): void {
    this.#pidArch.delete(pid);
    if (this.#pidArch.size >= MAX_TRACKED_PIDS) this.#pidArch.delete(this.#pidArch.keys().next().value!);
    this.#pidArch.set(pid, arch);
  }
}

/** `name` as `arch`'s table names it, or undefined when that arch has no such call (or `nr` disagrees). */
function canonicalName(name: string, nr: number | undefined, arch: ArchName): string | undefined {
  let n = syscallNumber(name, arch);
  if (n === undefined) {
    // strace prints calls its tables lack as `syscall_0x1b6`; audit as `syscall_438`.
    const m = /^syscall_(0x[0-9a-f]+|\d+)$/i.exec(name);
    if (m === null) return undefined;
    n = Number(m[1]);
  }
  if (nr !== undefined && n !== nr) return undefined;
  return syscallName(n, arch);
}

function cap(warnings: string[]): string[] {
  if (warnings.length <= MAX_WARNINGS) return warnings;
  return [...warnings.slice(0, MAX_WARNINGS), `… and ${warnings.length - MAX_WARNINGS} more warnings`];
}

/**
 * A profile from traces (each an iterable of parsed records, e.g. `parseRecords(text)`)
 * and baselines, merged.
 *
 * @example
 * const { profile } = buildSeccompProfile({ traces: [parseRecords(trace)] }, { mode: 'safe' });
 */
export function buildSeccompProfile(
  input: { traces?: Iterable<Iterable<ParsedRecord>>; baselines?: Iterable<unknown> },
  options: SeccompProfileOptions & SeccompBuilderOptions = {},
): SeccompProfileResult {
  const builder = new SeccompProfileBuilder(options);
  for (const trace of input.traces ?? []) {
    builder.beginTrace();
    builder.observe(trace);
  }
  let i = 0;
  for (const b of input.baselines ?? []) builder.addBaseline(b, `baseline ${++i}`);
  return builder.toProfile(options);
}
