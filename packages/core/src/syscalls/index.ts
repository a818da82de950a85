/**
 * Syscall number ↔ name look-ups for every common Linux arch, and the audit `arch=` ids
 * that select them. The tables come from tables.generated.ts (scripts/gen-syscall-tables.mjs);
 * each is decoded the first time it is asked for, then every look-up is one Map access.
 */
import { AUDIT_USERSPACE_ALIASES, KERNEL_TABLES } from './tables.generated.js';

/** Canonical arch names, as `ausearch -i` prints them where it has one. */
export type ArchName =
  | 'x86_64'
  | 'x32'
  | 'i386'
  | 'aarch64'
  | 'arm'
  | 'armeb'
  | 'riscv64'
  | 'riscv32'
  | 'ppc64le'
  | 'ppc64'
  | 'ppc'
  | 's390x'
  | 's390'
  | 'mips'
  | 'mipsel'
  | 'mips64'
  | 'mips64el'
  | 'mips64n32'
  | 'mips64n32el'
  | 'loongarch64';

interface ArchInfo {
  /** Key of KERNEL_TABLES / AUDIT_USERSPACE_ALIASES. */
  table: string;
  /** AUDIT_ARCH_* value (include/uapi/linux/audit.h), as the kernel prints it: `%x`. */
  auditId?: number;
  /** Other spellings (uname -m, Debian/Go arch names). */
  aliases?: readonly string[];
}

/** x32 shares x86_64's AUDIT_ARCH and is told apart by this bit in the syscall number. */
const X32_SYSCALL_BIT = 0x40000000;

const ARCHES: Readonly<Record<ArchName, ArchInfo>> = {
  x86_64: { table: 'x86_64', auditId: 0xc000003e, aliases: ['amd64', 'x86-64', 'x64'] },
  x32: { table: 'x32' },
  i386: { table: 'i386', auditId: 0x40000003, aliases: ['i486', 'i586', 'i686', 'x86', 'ia32', '386'] },
  aarch64: { table: 'aarch64', auditId: 0xc00000b7, aliases: ['arm64'] },
  arm: {
    table: 'arm',
    auditId: 0x40000028,
    aliases: ['armel', 'armhf', 'armv5tel', 'armv5tejl', 'armv6l', 'armv7l', 'armv7hl', 'armv8l', 'armle'],
  },
  armeb: { table: 'arm', auditId: 0x28, aliases: ['armv5teb', 'armv7b'] },
  riscv64: { table: 'riscv64', auditId: 0xc00000f3 },
  riscv32: { table: 'riscv32', auditId: 0x400000f3 },
  ppc64le: { table: 'ppc64le', auditId: 0xc0000015, aliases: ['powerpc64le', 'ppc64el'] },
  ppc64: { table: 'ppc64le', auditId: 0x80000015, aliases: ['powerpc64'] },
  ppc: { table: 'ppc', auditId: 0x14, aliases: ['powerpc'] },
  s390x: { table: 's390x', auditId: 0x80000016 },
  s390: { table: 's390', auditId: 0x16 },
  mips: { table: 'mips', auditId: 0x8, aliases: ['mipseb'] },
  mipsel: { table: 'mips', auditId: 0x40000008, aliases: ['mipsle'] },
  mips64: { table: 'mips64', auditId: 0x80000008 },
  mips64el: { table: 'mips64', auditId: 0xc0000008, aliases: ['mipsel64', 'mips64le'] },
  mips64n32: { table: 'mips64n32', auditId: 0xa0000008 },
  mips64n32el: { table: 'mips64n32', auditId: 0xe0000008, aliases: ['mipsel64n32'] },
  loongarch64: { table: 'loongarch64', auditId: 0xc0000102, aliases: ['loong64'] },
};

interface Table {
  byNr: Map<number, string>;
  byName: Map<string, number>;
}

/**
 * Decoded kernel tables by stem, each decoded the first time it is asked for. Filled only
 * from the constant tables above, never from input: the same for every caller.
 */
const tables = new Map<string, Table>();

/**
 * Arch by lower-case name or alias, and by AUDIT_ARCH id, both in number form and as the
 * kernel prints it (`%x`: `c000003e`), so that an `arch=` field is one look-up. Built at
 * load, constant afterwards.
 */
const byLowerName = new Map<string, ArchName>();
const byAuditId = new Map<number, ArchName>();
for (const [name, a] of Object.entries(ARCHES) as Array<[ArchName, ArchInfo]>) {
  byLowerName.set(name, name);
  for (const alias of a.aliases ?? []) byLowerName.set(alias, name);
  if (a.auditId !== undefined) byAuditId.set(a.auditId, name);
}
const byField = new Map<string, ArchName>(byLowerName);
for (const [id, name] of byAuditId) byField.set(id.toString(16), name);

function table(stem: string): Table {
  let t = tables.get(stem);
  if (t !== undefined) return t;
  t = { byNr: new Map(), byName: new Map() };
  const encoded = KERNEL_TABLES[stem] ?? '';
  let nr = 0;
  for (const token of encoded.split(' ')) {
    const c = token.charCodeAt(0);
    if (c >= 48 && c <= 57) {
      nr = Number(token);
      continue;
    }
    t.byNr.set(nr, token);
    t.byName.set(token, nr);
    nr++;
  }
  // The audit userspace's own names (pread, newfstat, …): name → number always; number →
  // name only where the kernel table has no entry (removed or never-wired syscalls).
  const aliases = AUDIT_USERSPACE_ALIASES[stem];
  if (aliases !== undefined) {
    const parts = aliases.split(' ');
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const n = Number(parts[i]);
      const name = parts[i + 1]!;
      if (!t.byName.has(name)) t.byName.set(name, n);
    }
  }
  tables.set(stem, t);
  return t;
}

function info(arch: string): ArchInfo | undefined {
  const name = resolveArch(arch);
  return name === undefined ? undefined : ARCHES[name];
}

/**
 * The kernel name of syscall `nr` on `arch` (an ArchName, alias or audit hex id), e.g.
 * `syscallName(262)` → `newfstatat`, `syscallName(56, 'c00000b7')` → `openat`. On x86_64,
 * numbers with the x32 bit (≥ 0x40000000) are read from the x32 table. Undefined when the
 * arch or number is unknown.
 */
export function syscallName(nr: number, arch = 'x86_64'): string | undefined {
  const a = info(arch);
  if (a === undefined) return undefined;
  const stem = a.table === 'x86_64' && nr >= X32_SYSCALL_BIT ? 'x32' : a.table;
  const t = table(stem);
  const name = t.byNr.get(nr);
  if (name !== undefined) return name;
  return userspaceName(stem, nr);
}

/** Names the audit userspace keeps for numbers the kernel table lacks (e.g. x86_64 134 uselib). */
const userspaceByNr = new Map<string, Map<number, string>>();
function userspaceName(stem: string, nr: number): string | undefined {
  let m = userspaceByNr.get(stem);
  if (m === undefined) {
    m = new Map();
    const kernel = table(stem).byNr;
    const parts = (AUDIT_USERSPACE_ALIASES[stem] ?? '').split(' ');
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const n = Number(parts[i]);
      if (!kernel.has(n) && !m.has(n)) m.set(n, parts[i + 1]!);
    }
    userspaceByNr.set(stem, m);
  }
  return m.get(nr);
}

/**
 * The number of syscall `name` on `arch`. Accepts the audit userspace's names too
 * (`pread` → 17 on x86_64, like the kernel's `pread64`). Undefined when unknown.
 */
export function syscallNumber(name: string, arch = 'x86_64'): number | undefined {
  const a = info(arch);
  if (a === undefined) return undefined;
  const n = table(a.table).byName.get(name);
  if (n !== undefined || a.table !== 'x86_64') return n;
  return table('x32').byName.get(name);
}

/**
 * Canonical arch of an audit `arch=` field or an arch name: `c000003e` → `x86_64`,
 * `40000003` → `i386`, `c00000b7` → `aarch64`, `80000015` → `ppc64`, `28` → `armeb`,
 * `x86_64`/`amd64` → `x86_64`, `arm64` → `aarch64`. Case-insensitive; `0x` and leading
 * zeros are accepted. Undefined when the field names no known arch.
 */
export function resolveArch(field: string): ArchName | undefined {
  return byField.get(field) ?? lookupArch(field);
}

function lookupArch(field: string): ArchName | undefined {
  const s = field.trim().toLowerCase();
  const named = byLowerName.get(s);
  if (named !== undefined) return named;
  const hex = s.startsWith('0x') ? s.slice(2) : s;
  if (hex.length === 0 || hex.length > 8 || !/^[0-9a-f]+$/.test(hex)) return undefined;
  return byAuditId.get(Number.parseInt(hex, 16));
}

/** Every arch name syscalls can be resolved for. */
export function listArches(): ArchName[] {
  return Object.keys(ARCHES) as ArchName[];
}

/** The kernel table of `arch` (number → name, by number), or undefined for an unknown arch. */
export function syscallTable(arch: string): ReadonlyMap<number, string> | undefined {
  const a = info(arch);
  return a === undefined ? undefined : table(a.table).byNr;
}

export { errnoName, errnoNumber } from './errno.js';
