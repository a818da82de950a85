/**
 * IP literals and CIDR ranges for `fd.sip`, `fd.rnet` and friends. Addresses are compared as
 * 16 bytes (IPv4 as IPv4-mapped IPv6), so `::ffff:169.254.169.254` is the metadata address too,
 * and `fd00:ec2:0::254` equals `fd00:ec2::254`.
 */
import { formatIpv6 } from '../context/sockaddr.js';

/** A CIDR range: the first `bits` of `bytes` (16 bytes, IPv4 mapped). */
export interface Cidr {
  bytes: Uint8Array;
  bits: number;
  text: string;
}

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function parseV4(text: string, out: Uint8Array, at: number): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return false;
    const n = Number(p);
    if (n > 255) return false;
    out[at + i] = n;
  }
  return true;
}

/** 16 bytes for an IPv4 or IPv6 literal (zone ids and brackets removed), or undefined. */
export function parseIp(input: string): Uint8Array | undefined {
  let text = input.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const out = new Uint8Array(16);
  if (!text.includes(':')) {
    V4_MAPPED_PREFIX.forEach((b, i) => {
      out[i] = b;
    });
    return parseV4(text, out, 12) ? out : undefined;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  // A trailing dotted quad (`::ffff:1.2.3.4`) counts as two groups.
  const words: number[] = [];
  const readGroups = (list: string[], into: number[]): boolean => {
    for (let i = 0; i < list.length; i++) {
      const g = list[i]!;
      if (i === list.length - 1 && g.includes('.')) {
        const v4 = new Uint8Array(4);
        if (!parseV4(g, v4, 0)) return false;
        into.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
      into.push(Number.parseInt(g, 16));
    }
    return true;
  };
  const headWords: number[] = [];
  const tailWords: number[] = [];
  if (!readGroups(head, headWords) || !readGroups(tail, tailWords)) return undefined;
  const missing = 8 - headWords.length - tailWords.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  words.push(...headWords, ...new Array<number>(missing).fill(0), ...tailWords);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 12; i++) if (bytes[i] !== V4_MAPPED_PREFIX[i]) return false;
  return true;
}

/** Canonical text (RFC 5952 for IPv6; dotted quad for IPv4 and IPv4-mapped). */
export function formatIp(bytes: Uint8Array): string {
  if (isV4Mapped(bytes)) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  return formatIpv6(bytes);
}

/** Canonical form of an IP literal, or undefined when it is not one. */
export function canonicalIp(text: string): string | undefined {
  const bytes = parseIp(text);
  return bytes === undefined ? undefined : formatIp(bytes);
}

/** `10.0.0.0/8`, `fd00:ec2::/32`, or a single address (a /32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const bytes = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (bytes === undefined) return undefined;
  const v4 = isV4Mapped(bytes) && !text.slice(0, slash < 0 ? undefined : slash).includes(':');
  const max = v4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const b = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b) || Number(b) > max) return undefined;
    bits = Number(b);
  }
  return { bytes, bits: v4 ? bits + 96 : bits, text };
}

/** True when `ip` (16 bytes) lies inside `range`. */
export function cidrContains(range: Cidr, ip: Uint8Array): boolean {
  const full = range.bits >> 3;
  for (let i = 0; i < full; i++) if (range.bytes[i] !== ip[i]) return false;
  const rest = range.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (range.bytes[full]! & mask) === (ip[full]! & mask);
}
