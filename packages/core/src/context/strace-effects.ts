/**
 * What strace calls do to a process's fds and sockets: opens, sockets, pipes, dups and
 * closes update the fd table; connect/bind/sendto/accept/… name a peer or a local address,
 * attached to the event and remembered on the socket's fd so later reads and writes on it
 * carry the peer too.
 */
import type { SocketAddress, SyscallEvent } from '../types.js';
import { type FdEntry, fileEntry, socketEntry, type TrackedProcess } from './process-table.js';
import { familyOf, parseStraceSockaddr, protocolOf, withProtocol } from './sockaddr.js';
import { argAt, argEnd, findOutsideStrings, readCString, readFd, readInt } from './strace-args.js';
import { type CallSpec, Effect } from './strace-calls.js';
import { entryFromDecoration, fdEntryAt, readFdPair, returnDecoration } from './strace-fds.js';

const BLANK: FdEntry = Object.freeze({
  path: undefined,
  paths: undefined,
  socket: undefined,
  cloexec: false,
  decoration: undefined,
});

/** Sets `e.peer`/`e.local` from a sockaddr argument (or msghdr `msg_name=`). */
export function attachSocket(e: SyscallEvent, proc: TrackedProcess, call: CallSpec): void {
  const name = e.syscall;
  const spec = call.sockaddr;
  const args = e.args!;
  let at: number;
  let end: number;
  if (spec !== undefined) {
    at = argAt(args, spec.arg);
    if (at === -1) return;
    end = argEnd(args, at);
  } else {
    const m = findOutsideStrings(args, 'msg_name=', 0, args.length);
    if (m === -1) return;
    at = m + 9;
    end = args.length;
  }
  const fdAt = argAt(args, 0);
  const entry = fdAt === -1 ? undefined : fdEntryAt(proc.files, args, fdAt);
  const fd = fdAt === -1 ? undefined : readFd(args, fdAt);
  const sock = entry?.socket;
  const addr = parseStraceSockaddr(args, at, end, sock?.protocol);
  if (addr === undefined) return;
  const isLocal = spec?.end === 'local';
  if (isLocal) e.local = addr;
  else setPeer(e, addr);
  // Remember a connected peer and a bound address on the socket itself.
  const connected = name === 'connect' && (e.errno === undefined || e.errno === 'EINPROGRESS');
  const bound = name === 'bind' && e.errno === undefined;
  if (fd === undefined || fd < 0 || !(connected || bound)) return;
  proc.files.set(
    fd,
    socketEntry(
      {
        family: addr.family,
        protocol: sock?.protocol,
        peer: connected ? addr : sock?.peer,
        local: bound ? addr : sock?.local,
      },
      entry?.cloexec ?? false,
    ),
  );
}

/**
 * Sets `e.peer`. The reader makes events with `peer` and `local` already there (undefined),
 * in that order, so that they keep one shape; a peer found after the local end (accept on
 * a bound socket) came after it in the JSON of the events when both were added as found,
 * and still does: both are taken off (the last properties: V8 goes back to the shape
 * without them, no slow object) and put back local first. A few events in a million.
 */
export function setPeer(e: SyscallEvent, addr: SocketAddress): void {
  const local = e.local;
  if (local === undefined || e.peer !== undefined) {
    e.peer = addr;
    return;
  }
  delete e.local;
  delete e.peer;
  e.local = local;
  e.peer = addr;
}

/** fd table updates of a successful call. */
export function trackFds(e: SyscallEvent, proc: TrackedProcess, effect: Effect): void {
  const name = e.syscall;
  const args = e.args!;
  const files = proc.files;
  if (effect === Effect.Open) {
    const fd = retFd(e);
    if (fd === undefined) return;
    // The flags follow the path string, so the search starts after its closing quote.
    const cloexec = args.indexOf('O_CLOEXEC', lastQuote(args) + 1) !== -1;
    const decoration = returnDecoration(e);
    const path = e.paths?.[0];
    if (decoration !== undefined) files.set(fd, entryFromDecoration(decoration, cloexec, undefined, e.paths));
    else if (path !== undefined) files.set(fd, fileEntry(path, cloexec, undefined, e.paths));
    else files.set(fd, BLANK);
    return;
  }
  switch (effect) {
    case Effect.Close: {
      const at = argAt(args, 0);
      const fd = at === -1 ? undefined : readFd(args, at);
      if (fd !== undefined) files.delete(fd);
      return;
    }
    case Effect.Socket:
      openSocket(e, proc);
      return;
    case Effect.FdPair: {
      const at = argAt(args, name === 'socketpair' ? 3 : 0);
      if (at === -1) return;
      const cloexec = findOutsideStrings(args, 'CLOEXEC', 0, args.length) !== -1;
      const socket =
        name === 'socketpair'
          ? { family: familyOf(firstWord(args)), protocol: undefined, peer: undefined, local: undefined }
          : undefined;
      for (const [fd, decoration] of readFdPair(args, at)) {
        if (decoration !== undefined) files.set(fd, entryFromDecoration(decoration, cloexec));
        else files.set(fd, socket === undefined ? BLANK : socketEntry(socket, cloexec));
      }
      return;
    }
    case Effect.Dup:
      dupFd(e, proc, name === 'dup3' && args.includes('O_CLOEXEC'));
      return;
    case Effect.Fcntl:
      if (args.includes('F_DUPFD')) dupFd(e, proc, args.includes('F_DUPFD_CLOEXEC'));
      return;
    case Effect.Accept:
      acceptFd(e, proc);
      return;
    case Effect.Memfd: {
      const fd = retFd(e);
      const at = argAt(args, 0);
      const label = at === -1 ? undefined : readCString(args, at, 256);
      if (fd !== undefined) files.set(fd, label === undefined ? BLANK : fileEntry(`/memfd:${label}`, false));
      return;
    }
    case Effect.AnonFd: {
      // An fd that names no path we can read (anon inodes): forget what the number was.
      const fd = retFd(e);
      const decoration = returnDecoration(e);
      if (fd !== undefined)
        files.set(fd, decoration === undefined ? BLANK : entryFromDecoration(decoration, false));
    }
  }
}

/** `socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3`. */
function openSocket(e: SyscallEvent, proc: TrackedProcess): void {
  const fd = retFd(e);
  if (fd === undefined) return;
  const args = e.args!;
  const typeAt = argAt(args, 1);
  const protoAt = typeAt === -1 ? -1 : argAt(args, 1, typeAt, 0);
  const type = typeAt === -1 ? '' : args.slice(typeAt, argEnd(args, typeAt));
  const proto = protoAt === -1 ? '' : args.slice(protoAt, argEnd(args, protoAt));
  const family = familyOf(firstWord(args));
  const cloexec = type.includes('SOCK_CLOEXEC');
  const decoration = returnDecoration(e);
  const protocol = protocolOf(family, type, proto);
  const entry =
    decoration !== undefined
      ? entryFromDecoration(decoration, cloexec)
      : socketEntry({ family, protocol, peer: undefined, local: undefined }, cloexec);
  proc.files.set(fd, entry);
}

/** dup/dup2/dup3/F_DUPFD: the new fd names what the old one did. */
function dupFd(e: SyscallEvent, proc: TrackedProcess, cloexec: boolean): void {
  const fd = retFd(e);
  const at = argAt(e.args!, 0);
  if (fd === undefined || at === -1) return;
  const old = fdEntryAt(proc.files, e.args!, at);
  if (old === undefined) proc.files.set(fd, BLANK);
  else proc.files.set(fd, old.cloexec === cloexec ? old : { ...old, cloexec });
}

/** accept/accept4: a connected socket whose peer the call printed, local end the listener's. */
function acceptFd(e: SyscallEvent, proc: TrackedProcess): void {
  const fd = retFd(e);
  if (fd === undefined) return;
  const decoration = returnDecoration(e);
  if (decoration !== undefined) {
    proc.files.set(fd, entryFromDecoration(decoration, false));
    return;
  }
  const at = argAt(e.args!, 0);
  const listener = at === -1 ? undefined : fdEntryAt(proc.files, e.args!, at)?.socket;
  const family = e.peer?.family ?? listener?.family ?? 'other';
  const protocol = listener?.protocol;
  const peer = e.peer === undefined ? undefined : withProtocol(e.peer, protocol);
  if (peer !== undefined) e.peer = peer;
  proc.files.set(
    fd,
    socketEntry({ family, protocol, peer, local: listener?.local }, e.args!.includes('SOCK_CLOEXEC')),
  );
}

function retFd(e: SyscallEvent): number | undefined {
  const fd = e.ret === undefined ? undefined : readInt(e.ret, 0);
  return fd === undefined || fd < 0 ? undefined : fd;
}

/** The leading symbolic word of an argument list (`AF_INET` of `AF_INET, SOCK_…`). */
function firstWord(args: string): string {
  let i = 0;
  // `-X raw` prints a family as `0x2`: names are upper case, so lower-case hex letters are a number's.
  while (i < args.length) {
    const c = args.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 120 || (c >= 97 && c <= 102)))
      break;
    i++;
  }
  return args.slice(0, i);
}

/**
 * `s.lastIndexOf('"')`, walked back by hand: what follows an open's path (its flags, a
 * mode) is short, and lastIndexOf is a call into V8's runtime that cost more than the walk
 * (half of trackFds' time on plain traces).
 */
function lastQuote(s: string): number {
  let i = s.length - 1;
  while (i >= 0 && s.charCodeAt(i) !== 34) i--;
  return i;
}
