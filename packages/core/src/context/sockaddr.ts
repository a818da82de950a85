/**
 * Socket addresses out of telemetry: strace's decoded `struct sockaddr` text, its `-yy` fd
 * decorations (`TCP:[127.0.0.1:40000->127.0.0.1:80]`), and audit's raw SOCKADDR hex.
 * Every result is a new frozen SocketAddress; nothing is guessed (an address the text does
 * not show stays undefined).
 */

import { readCBytes, readCString, readInt } from './strace-args.js';
import type { SocketAddress, SocketFamily } from './types.js';

type Protocol = SocketAddress['protocol'];

/** Longest AF_UNIX path kept (sun_path is 108 bytes; strace may print escapes). */
const MAX_UNIX_PATH = 512;

const FAMILIES: Record<string, SocketFamily> = {
  AF_INET: 'inet',
  AF_INET6: 'inet6',
  AF_UNIX: 'unix',
  AF_LOCAL: 'unix',
  AF_NETLINK: 'netlink',
};

/** `socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP)` → its family name; `-X raw`'s `2` or `0x2` too. */
export function familyOf(name: string): SocketFamily {
  const named = FAMILIES[name];
  if (named !== undefined) return named;
  const n = leadingNumber(name);
  return n === undefined ? 'other' : (AUDIT_FAMILIES[n] ?? 'other');
}

/**
 * Layer-4 protocol of an inet socket from its type (and protocol) arguments, by name or, as
 * `-X raw` prints them, by number (`0x80001`: SOCK_STREAM with SOCK_CLOEXEC; `6`: TCP).
 */
export function protocolOf(family: SocketFamily, type: string, proto: string): Protocol {
  if (family !== 'inet' && family !== 'inet6') return undefined;
  const protoNumber = leadingNumber(proto);
  if (proto.includes('IPPROTO_TCP') || protoNumber === 6) return 'tcp';
  if (proto.includes('IPPROTO_UDP') || protoNumber === 17) return 'udp';
  const base = (leadingNumber(type) ?? -1) & 0xf;
  if (type.includes('SOCK_STREAM') || base === 1) return 'tcp';
  if (type.includes('SOCK_DGRAM') || base === 2) return 'udp';
  if (type.includes('SOCK_RAW') || base === 3) return 'raw';
  return 'other';
}

/** The number a text starts with (`0x2`, `17`, `0x1 /* SOCK_STREAM *\/`), or undefined. */
function leadingNumber(text: string): number | undefined {
  const m = /^(0x[0-9a-f]+|\d+)/.exec(text);
  return m === null ? undefined : Number(m[1]);
}

/**
 * Reads the sockaddr structure `{sa_family=AF_INET, sin_port=htons(80), …}` in
 * `text[at, end)`; undefined when `at` is not one (NULL, an address, `{...}`).
 */
export function parseStraceSockaddr(
  text: string,
  at: number,
  end: number,
  protocol: Protocol,
): SocketAddress | undefined {
  if (text.charCodeAt(at) !== 123 /* { */) return undefined;
  const f = text.indexOf('sa_family=', at);
  if (f === -1 || f >= end) return undefined;
  let fe = f + 10;
  // `strace -X raw` / `-X verbose` print the family as a number (`sa_family=0x2 /* AF_INET */`).
  const numbered = text.startsWith('0x', fe);
  if (numbered) fe += 2;
  while (fe < end && (isNameChar(text.charCodeAt(fe)) || (numbered && isHexLetter(text.charCodeAt(fe)))))
    fe++;
  const name = text.slice(f + 10, fe);
  const family = numbered ? (AUDIT_FAMILIES[Number(name)] ?? 'other') : familyOf(name);
  if (family === 'inet' || family === 'inet6') {
    const v4 = family === 'inet';
    const portKey = v4 ? 'sin_port=htons(' : 'sin6_port=htons(';
    const p = text.indexOf(portKey, fe);
    let port = p !== -1 && p < end ? readInt(text, p + portKey.length) : undefined;
    // Without names (-X raw, -X verbose) the port and address are their bytes, in network order.
    if (port === undefined) {
      const bytes = fieldBytes(text, v4 ? 'sin_port="' : 'sin6_port="', fe, end, 2);
      if (bytes !== undefined) port = (bytes[0]! << 8) | bytes[1]!;
    }
    const addrKey = v4 ? 'inet_addr("' : 'inet_pton(AF_INET6, "';
    const a = text.indexOf(addrKey, fe);
    let address: string | undefined;
    if (a !== -1 && a < end) {
      const s = a + addrKey.length - 1;
      address = readCString(text, s, 64);
    } else {
      const bytes = fieldBytes(text, v4 ? 'sin_addr="' : 'sin6_addr="', fe, end, v4 ? 4 : 16);
      if (bytes !== undefined) address = v4 ? bytes.join('.') : formatIpv6(Uint8Array.from(bytes));
    }
    return freezeAddress({ family, address, port, protocol });
  }
  if (family === 'unix') {
    const p = text.indexOf('sun_path=', fe);
    if (p === -1 || p >= end) return freezeAddress({ family });
    let s = p + 9;
    // Abstract names: `sun_path=@"name"`.
    const abstract = text.charCodeAt(s) === 64;
    if (abstract) s++;
    const path = readCString(text, s, MAX_UNIX_PATH);
    if (path === undefined) return freezeAddress({ family });
    return freezeAddress({ family, path: abstract ? `@${path}` : path });
  }
  return freezeAddress({ family });
}

function isNameChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

function isHexLetter(c: number): boolean {
  return c >= 97 && c <= 102;
}

/**
 * The `length` bytes of the string field `key` (`sin_addr="\xa9\xfe\xa9\xfe"`, as `-X raw`
 * prints a struct member without a name for it) in `text[from, end)`; undefined when absent
 * or of another length.
 */
function fieldBytes(
  text: string,
  key: string,
  from: number,
  end: number,
  length: number,
): number[] | undefined {
  const k = text.indexOf(key, from);
  if (k === -1 || k >= end) return undefined;
  const bytes = readCBytes(text, k + key.length - 1, length);
  return bytes?.length === length ? bytes : undefined;
}

/** Both ends of a `-yy` socket decoration, or undefined when it is a path, not a socket. */
export interface SocketDecoration {
  readonly family: SocketFamily;
  readonly protocol: Protocol;
  readonly local: SocketAddress | undefined;
  readonly peer: SocketAddress | undefined;
}

/**
 * `TCP:[127.0.0.1:47882->127.0.0.1:80]`, `TCPv6:[[::1]:1->[::1]:2]`, `UDP:[…]`,
 * `UNIX-STREAM:[29069->29070]`, `UNIX:[1234,"/run/x.sock"]`, `NETLINK:[ROUTE:12]`; an
 * inode-only form (`TCP:[29082]`) gives the family and protocol with no ends.
 */
export function parseSocketDecoration(text: string): SocketDecoration | undefined {
  const colon = text.indexOf(':[');
  if (colon === -1 || text.charCodeAt(text.length - 1) !== 93) return undefined;
  const kind = text.slice(0, colon);
  const body = text.slice(colon + 2, -1);
  let family: SocketFamily;
  let protocol: Protocol;
  if (kind === 'TCP' || kind === 'UDP' || kind === 'TCPv6' || kind === 'UDPv6') {
    family = kind.endsWith('v6') ? 'inet6' : 'inet';
    protocol = kind.startsWith('TCP') ? 'tcp' : 'udp';
  } else if (kind.startsWith('UNIX')) {
    family = 'unix';
  } else if (kind === 'NETLINK') {
    family = 'netlink';
  } else if (kind === 'RAW' || kind === 'RAWv6') {
    family = kind === 'RAW' ? 'inet' : 'inet6';
    protocol = 'raw';
  } else {
    return undefined;
  }
  let local: SocketAddress | undefined;
  let peer: SocketAddress | undefined;
  if (family === 'inet' || family === 'inet6') {
    const arrow = body.indexOf('->');
    local = endpoint(family, protocol, arrow === -1 ? body : body.slice(0, arrow));
    peer = arrow === -1 ? undefined : endpoint(family, protocol, body.slice(arrow + 2));
  } else if (family === 'unix') {
    // `INODE[->PEER][,"PATH"]`: the path is the bound name of this socket.
    const q = body.indexOf(',"');
    if (q !== -1) {
      const path = readCString(body, q + 1, MAX_UNIX_PATH);
      if (path !== undefined) local = freezeAddress({ family, path });
    }
  }
  return { family, protocol, local, peer };
}

/** `1.2.3.4:80` or `[::1]:80` (an inode number alone is no endpoint). */
function endpoint(family: SocketFamily, protocol: Protocol, text: string): SocketAddress | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let address = text.slice(0, colon);
  if (address.charCodeAt(0) === 91) address = address.slice(1, -1);
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port)) return undefined;
  return freezeAddress({ family, address, port, protocol });
}

/** Drops undefined fields (JSON and `exactOptionalPropertyTypes` stay tidy) and freezes. */
export function freezeAddress(a: {
  family: SocketFamily;
  address?: string | undefined;
  port?: number | undefined;
  path?: string | undefined;
  protocol?: Protocol;
}): SocketAddress {
  const out: { -readonly [K in keyof SocketAddress]: SocketAddress[K] } = { family: a.family };
  if (a.address !== undefined) out.address = a.address;
  if (a.port !== undefined) out.port = a.port;
  if (a.path !== undefined) out.path = a.path;
  if (a.protocol !== undefined) out.protocol = a.protocol;
  return Object.freeze(out);
}

/** The same address with a protocol learned from the socket (connect's sockaddr has none). */
export function withProtocol(a: SocketAddress, protocol: Protocol): SocketAddress {
  if (protocol === undefined || a.protocol === protocol) return a;
  return freezeAddress({ ...a, protocol });
}

const AUDIT_FAMILIES: Record<number, SocketFamily> = { 1: 'unix', 2: 'inet', 10: 'inet6', 16: 'netlink' };

/**
 * Decodes audit's SOCKADDR `saddr=` hex (the raw `struct sockaddr` the call passed). The
 * family is in host byte order, so a big-endian machine (`arch=80000015`, ppc64) writes
 * `0002`: `bigEndian` says so when the arch is known, else the order that names a known
 * family wins. Ports and IPv4/IPv6 addresses are in network byte order. undefined for
 * empty or unreadable values.
 */
export function decodeAuditSockaddr(hex: string, bigEndian?: boolean): SocketAddress | undefined {
  if (hex.length < 4 || hex.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  const b = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < b.length; i++) b[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  const le = b[0]! | (b[1]! << 8);
  const be = (b[0]! << 8) | b[1]!;
  const famNo = bigEndian === true ? be : bigEndian === false ? le : le in AUDIT_FAMILIES ? le : be;
  const family = AUDIT_FAMILIES[famNo] ?? 'other';
  const port = b.length >= 4 ? (b[2]! << 8) | b[3]! : undefined;
  if (family === 'inet') {
    if (b.length < 8) return freezeAddress({ family });
    return freezeAddress({ family, port, address: `${b[4]}.${b[5]}.${b[6]}.${b[7]}` });
  }
  if (family === 'inet6') {
    // sin6_port (2..4), sin6_flowinfo (4..8), sin6_addr (8..24).
    if (b.length < 24) return freezeAddress({ family, port });
    return freezeAddress({ family, port, address: formatIpv6(b.subarray(8, 24)) });
  }
  if (family === 'unix') {
    // sun_path: NUL-terminated, or abstract (first byte NUL, then the name).
    const path = b.subarray(2);
    if (path.length === 0) return freezeAddress({ family });
    const abstract = path[0] === 0;
    const body = abstract ? path.subarray(1) : path;
    let n = body.indexOf(0);
    if (n === -1) n = body.length;
    if (n === 0 && !abstract) return freezeAddress({ family });
    const name = new TextDecoder('utf-8').decode(body.subarray(0, Math.min(n, MAX_UNIX_PATH)));
    return freezeAddress({ family, path: abstract ? `@${name}` : name });
  }
  return freezeAddress({ family });
}

/** RFC 5952 text of a 16-byte IPv6 address (`::1`, `fd00:ec2::254`, `::ffff:1.2.3.4`). */
export function formatIpv6(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i]! << 8) | b[i + 1]!);
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  // The longest run of two or more zero words becomes `::` (the first such run on a tie).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
