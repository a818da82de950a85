/**
 * Argument filters read off a trace where it makes them obvious: the `socket` address
 * families, the `personality` values and the namespace flags of `clone` a program used.
 * Values come from strace's decoded arguments (`AF_INET`, `PER_LINUX32|ADDR_NO_RANDOMIZE`,
 * `CLONE_VM|…`, or numbers with `-X raw`) or audit's `a0`/`a1` (hex). A value that cannot
 * be read leaves the call without a filter, never with a guessed one.
 */
import type { SyscallEvent } from '../../types.js';

/** Address families (include/linux/socket.h). */
const ADDRESS_FAMILIES: Readonly<Record<string, number>> = {
  AF_UNSPEC: 0,
  AF_UNIX: 1,
  AF_LOCAL: 1,
  AF_INET: 2,
  AF_AX25: 3,
  AF_IPX: 4,
  AF_APPLETALK: 5,
  AF_NETROM: 6,
  AF_BRIDGE: 7,
  AF_ATMPVC: 8,
  AF_X25: 9,
  AF_INET6: 10,
  AF_ROSE: 11,
  AF_DECnet: 12,
  AF_NETBEUI: 13,
  AF_SECURITY: 14,
  AF_KEY: 15,
  AF_NETLINK: 16,
  AF_ROUTE: 16,
  AF_PACKET: 17,
  AF_ASH: 18,
  AF_ECONET: 19,
  AF_ATMSVC: 20,
  AF_RDS: 21,
  AF_SNA: 22,
  AF_IRDA: 23,
  AF_PPPOX: 24,
  AF_WANPIPE: 25,
  AF_LLC: 26,
  AF_IB: 27,
  AF_MPLS: 28,
  AF_CAN: 29,
  AF_TIPC: 30,
  AF_BLUETOOTH: 31,
  AF_IUCV: 32,
  AF_RXRPC: 33,
  AF_ISDN: 34,
  AF_PHONET: 35,
  AF_IEEE802154: 36,
  AF_CAIF: 37,
  AF_ALG: 38,
  AF_NFC: 39,
  AF_VSOCK: 40,
  AF_KCM: 41,
  AF_QIPCRTR: 42,
  AF_SMC: 43,
  AF_XDP: 44,
  AF_MCTP: 45,
};

/** Personality bases and flags as strace names them (include/uapi/linux/personality.h). */
const PERSONALITY: Readonly<Record<string, number>> = {
  PER_LINUX: 0x0000,
  PER_LINUX_32BIT: 0x0800000,
  PER_LINUX_FDPIC: 0x0080000,
  PER_BSD: 0x0006,
  PER_LINUX32: 0x0008,
  PER_LINUX32_3GB: 0x8000008,
  UNAME26: 0x0020000,
  ADDR_NO_RANDOMIZE: 0x0040000,
  FDPIC_FUNCPTRS: 0x0080000,
  MMAP_PAGE_ZERO: 0x0100000,
  ADDR_COMPAT_LAYOUT: 0x0200000,
  READ_IMPLIES_EXEC: 0x0400000,
  ADDR_LIMIT_32BIT: 0x0800000,
  SHORT_INODE: 0x1000000,
  WHOLE_SECONDS: 0x2000000,
  STICKY_TIMEOUTS: 0x4000000,
  ADDR_LIMIT_3GB: 0x8000000,
};

/**
 * The namespace flags of clone(2) (include/uapi/linux/sched.h); moby's default profile
 * refuses exactly these (2114060288) to callers without CAP_SYS_ADMIN.
 */
export const CLONE_NAMESPACE_FLAGS: Readonly<Record<string, number>> = {
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
};
export const CLONE_NAMESPACE_MASK = Object.values(CLONE_NAMESPACE_FLAGS).reduce((a, b) => a + b, 0);

/** Distinct values kept per call; past it the call is left unfiltered (it is no longer "obvious"). */
export const MAX_FILTER_VALUES = 32;

/** What the trace showed of one filtered argument. */
export class ArgValues {
  readonly values = new Set<number>();
  /** A call whose value could not be read, or more values than are kept: no filter. */
  unreadable = false;
  /** Why there is no filter, for the note (the first reason seen). */
  unreadableWhy: string | undefined;

  add(value: number | undefined, line: number | undefined): void {
    if (value === undefined) {
      this.markUnreadable(`an argument syscan could not read${line === undefined ? '' : ` (line ${line})`}`);
    } else if (!this.values.has(value) && this.values.size >= MAX_FILTER_VALUES) {
      this.markUnreadable(`more than ${MAX_FILTER_VALUES} distinct values`);
    } else {
      this.values.add(value);
    }
  }

  markUnreadable(why: string): void {
    this.unreadable = true;
    this.unreadableWhy ??= why;
  }
}

/** The namespace flags of every clone seen, OR-ed: the filter needs only which were ever used. */
export class FlagUnion {
  used = 0;
  unreadable = false;
  unreadableWhy: string | undefined;

  add(flags: number | undefined, line: number | undefined): void {
    if (flags === undefined)
      this.markUnreadable(`an argument syscan could not read${line === undefined ? '' : ` (line ${line})`}`);
    else this.used = (this.used | flags) >>> 0;
  }

  markUnreadable(why: string): void {
    this.unreadable = true;
    this.unreadableWhy ??= why;
  }
}

/** Reads a number the way strace or audit prints it: `2`, `0x2`, `0x2 /* AF_INET *\/`. */
function readNumber(text: string): number | undefined {
  const t = text.trim();
  const m = /^(0x[0-9a-fA-F]+|[0-9]+)(?:\s*\/\*.*\*\/)?$/.exec(t);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** `A|B|0x40` → the OR of each part, through `names`; undefined when a part is unknown. */
function readFlags(text: string, names: Readonly<Record<string, number>>): number | undefined {
  const t = text.replace(/\/\*.*?\*\//g, '').trim();
  if (t.length === 0) return undefined;
  let value = 0;
  for (const part of t.split('|')) {
    const p = part.trim();
    const named = Object.hasOwn(names, p) ? names[p] : readNumber(p);
    if (named === undefined) return undefined;
    value = (value | named) >>> 0;
  }
  return value;
}

/** The first top-level argument of strace's argument text. */
function firstArg(args: string): string {
  const comma = args.indexOf(',');
  return comma === -1 ? args : args.slice(0, comma);
}

/** An audit SYSCALL argument (`a0`…`a3`, hex without `0x`), when the parser kept fields. */
function auditArg(e: SyscallEvent, index: number): number | undefined {
  const raw = e.audit?.fields?.[`SYSCALL.a${index}`];
  if (raw === undefined || !/^[0-9a-fA-F]{1,16}$/.test(raw)) return undefined;
  const n = Number.parseInt(raw, 16);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The address family of a `socket` call. */
export function socketFamily(e: SyscallEvent): number | undefined {
  if (e.source === 'audit') return auditArg(e, 0);
  if (e.args === undefined) return undefined;
  const first = firstArg(e.args).trim();
  return Object.hasOwn(ADDRESS_FAMILIES, first) ? ADDRESS_FAMILIES[first] : readNumber(first);
}

/** The persona of a `personality` call (`0xffffffff` is the query moby also allows). */
export function personalityValue(e: SyscallEvent): number | undefined {
  if (e.source === 'audit') {
    const v = auditArg(e, 0);
    // persona is an unsigned int; audit prints the register, which may carry sign extension.
    return v === undefined ? undefined : v % 0x1_0000_0000;
  }
  return e.args === undefined ? undefined : readFlags(e.args, PERSONALITY);
}

/**
 * The namespace flags a `clone`/`clone3` call asked for (0 for none). Other flags and the
 * exit signal do not matter to the filter, so unknown names among them are no obstacle.
 */
export function cloneNamespaceFlags(e: SyscallEvent, flagsIndex: number): number | undefined {
  if (e.source === 'audit') {
    if (e.syscall === 'clone3') return undefined; // flags live in a struct audit does not show
    const v = auditArg(e, flagsIndex);
    return v === undefined ? undefined : Number(BigInt(v) & BigInt(CLONE_NAMESPACE_MASK));
  }
  if (e.args === undefined) return undefined;
  const m = /(?:^|[{ ,])flags=([^,}]*)/.exec(e.args);
  if (m === null) return undefined;
  const text = m[1]!.replace(/\/\*.*?\*\//g, '').trim();
  let flags = 0;
  for (const part of text.split('|')) {
    const p = part.trim();
    if (Object.hasOwn(CLONE_NAMESPACE_FLAGS, p)) flags |= CLONE_NAMESPACE_FLAGS[p]!;
    else if (/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(p)) flags |= Number(BigInt(p) & BigInt(CLONE_NAMESPACE_MASK));
    else if (!/^(CLONE_|SIG)\w+$/.test(p)) return undefined;
  }
  return flags >>> 0;
}
