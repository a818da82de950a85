/**
 * Arches in seccomp profiles: libseccomp's `SCMP_ARCH_*` names, which compat ABIs a 64-bit
 * kernel also runs (so a trace seen in 32-bit mode is told apart), and the moby `archMap`.
 */
import type { ArchName } from '../../syscalls/index.js';

/** libseccomp's name of each arch it supports; armeb and riscv32 have none. */
export const SCMP_ARCH: Readonly<Partial<Record<ArchName, string>>> = {
  x86_64: 'SCMP_ARCH_X86_64',
  i386: 'SCMP_ARCH_X86',
  x32: 'SCMP_ARCH_X32',
  aarch64: 'SCMP_ARCH_AARCH64',
  arm: 'SCMP_ARCH_ARM',
  riscv64: 'SCMP_ARCH_RISCV64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  ppc64: 'SCMP_ARCH_PPC64',
  ppc: 'SCMP_ARCH_PPC',
  s390x: 'SCMP_ARCH_S390X',
  s390: 'SCMP_ARCH_S390',
  mips: 'SCMP_ARCH_MIPS',
  mipsel: 'SCMP_ARCH_MIPSEL',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64el: 'SCMP_ARCH_MIPSEL64',
  mips64n32: 'SCMP_ARCH_MIPS64N32',
  mips64n32el: 'SCMP_ARCH_MIPSEL64N32',
  loongarch64: 'SCMP_ARCH_LOONGARCH64',
};

/**
 * The sub-arches moby's `default.json` pairs with each native arch (profiles/seccomp/
 * default.json `archMap`): a container on an x86_64 host may run i386 and x32 code, so its
 * filter must cover them. Arches moby does not list get no sub-arches.
 */
const MOBY_SUB_ARCHES: Readonly<Partial<Record<ArchName, readonly ArchName[]>>> = {
  x86_64: ['i386', 'x32'],
  aarch64: ['arm'],
  mips64: ['mips', 'mips64n32'],
  mips64n32: ['mips', 'mips64'],
  mips64el: ['mipsel', 'mips64n32el'],
  mips64n32el: ['mipsel', 'mips64el'],
  s390x: ['s390'],
  riscv64: [],
};

/** The 64-bit arch whose kernel runs each compat ABI (strace's "32 bit mode"). */
const NATIVE_OF: Readonly<Partial<Record<ArchName, ArchName>>> = {
  i386: 'x86_64',
  x32: 'x86_64',
  arm: 'aarch64',
  s390: 's390x',
  ppc: 'ppc64',
  mips: 'mips64',
  mipsel: 'mips64el',
  mips64n32: 'mips64',
  mips64n32el: 'mips64el',
};

/** The compat ABIs a kernel of `native` can run, most common first (for matching calls to an ABI). */
export function compatArches(native: ArchName): ArchName[] {
  const out: ArchName[] = [];
  for (const [compat, of] of Object.entries(NATIVE_OF) as Array<[ArchName, ArchName]>) {
    if (of === native) out.push(compat);
  }
  return out;
}

/**
 * The arch strace means by `[ Process PID=N runs in 32 bit mode. ]` (also `64 bit`, `x32`;
 * some arches spell it `32-bit`) on a host of `native`; undefined for any other line.
 */
export function personalityArch(notice: string, native: ArchName): ArchName | undefined {
  const m = /runs in (64[ -]bit|32[ -]bit|x32) mode/.exec(notice);
  if (m === null) return undefined;
  const mode = m[1]!;
  if (mode === 'x32') return native === 'x86_64' ? 'x32' : undefined;
  if (mode.startsWith('64')) return NATIVE_OF[native] ?? native;
  if (NATIVE_OF[native] !== undefined) return native; // already a 32-bit host
  return compatArches(native)[0];
}

/** One `archMap` entry, as in moby's default.json. */
export interface SeccompArchMapEntry {
  architecture: string;
  subArchitectures: string[];
}

/**
 * The `archMap` for the arches seen. A compat arch joins its native arch's entry when that
 * arch was seen too or is `host` (a trace of a 32-bit program on an x86_64 machine);
 * otherwise it gets its own entry (an audit log of a real i386 machine). Native entries
 * carry moby's sub-arches whether seen or not, as moby does. Arches libseccomp cannot name
 * are returned in `unnamed`.
 */
export function buildArchMap(
  seen: Iterable<ArchName>,
  host: ArchName,
): { archMap: SeccompArchMapEntry[]; unnamed: ArchName[] } {
  const primaries = new Set<ArchName>();
  const seenSet = new Set(seen);
  for (const arch of seenSet) {
    const native = NATIVE_OF[arch];
    primaries.add(native !== undefined && (seenSet.has(native) || native === host) ? native : arch);
  }
  const archMap: SeccompArchMapEntry[] = [];
  const unnamed: ArchName[] = [];
  for (const arch of [...primaries].sort()) {
    const name = SCMP_ARCH[arch];
    if (name === undefined) {
      unnamed.push(arch);
      continue;
    }
    const subs = new Set<string>();
    for (const sub of MOBY_SUB_ARCHES[arch] ?? []) subs.add(SCMP_ARCH[sub]!);
    // A compat arch seen under a native that moby gives no sub-arches (ppc under ppc64).
    for (const other of seenSet) {
      if (NATIVE_OF[other] === arch && SCMP_ARCH[other] !== undefined) subs.add(SCMP_ARCH[other]!);
    }
    archMap.push({ architecture: name, subArchitectures: [...subs] });
  }
  return { archMap, unnamed };
}

/** Every arch an `archMap` covers, native first, without repeats (the OCI `architectures` form). */
export function flattenArchMap(archMap: readonly SeccompArchMapEntry[]): string[] {
  const out = new Set<string>();
  for (const e of archMap) {
    out.add(e.architecture);
    for (const s of e.subArchitectures) out.add(s);
  }
  return [...out];
}

/** ArchNames an `archMap` covers (for checking names against every table the filter uses). */
export function archesOf(archMap: readonly SeccompArchMapEntry[]): ArchName[] {
  const byScmp = new Map<string, ArchName>();
  for (const [arch, name] of Object.entries(SCMP_ARCH) as Array<[ArchName, string]>) byScmp.set(name, arch);
  const out: ArchName[] = [];
  for (const name of flattenArchMap(archMap)) {
    const arch = byScmp.get(name);
    if (arch !== undefined) out.push(arch);
  }
  return out;
}
