/**
 * File descriptors in strace traces: what an fd argument names (from its `-y`/`-yy`
 * decoration, else from the fd table the tracker keeps from earlier opens), and the fd
 * table updates of calls that make, copy or close fds.
 */
import type { SyscallEvent } from '../types.js';
import { type FdEntry, type FdTable, fileEntry, type SocketState, socketEntry } from './process-table.js';
import { parseSocketDecoration } from './sockaddr.js';
import { decorationText, decorEnd, decorStart, readEnd, readFd } from './strace-args.js';

/**
 * The entry for the fd whose text starts at `args[at]`, refreshed from its decoration when
 * it has one (so a table that missed the open still learns the fd). Sets fdRead to the fd
 * number (undefined when `at` holds no fd).
 */
export function fdEntryAt(files: FdTable, args: string, at: number): FdEntry | undefined {
  const fd = readFd(args, at);
  fdRead = fd;
  if (fd === undefined || fd < 0) return undefined;
  const known = files.get(fd);
  if (decorStart === -1) return known;
  // Same decoration as last time (the common case): no parsing. (A slice compared with
  // `===` measured about twice as fast as `startsWith` at an offset.)
  const text = args.slice(decorStart, decorEnd);
  if (known !== undefined && known.decoration === text) return known;
  const entry = entryFromDecoration(text, known?.cloexec ?? false, known);
  files.set(fd, entry);
  return entry;
}

/** The fd number fdEntryAt read last. */
export let fdRead: number | undefined;

/** An entry from decoration text: a socket (`TCP:[…]`), else a path (`/etc/x`, `pipe:[12]`). */
export function entryFromDecoration(
  text: string,
  cloexec: boolean,
  previous?: FdEntry,
  eventPaths?: readonly string[],
): FdEntry {
  // A path (the common case) starts with `/`; sockets, pipes and anon inodes with a word.
  const sock = text.charCodeAt(0) === 47 ? undefined : parseSocketDecoration(text);
  if (sock !== undefined) {
    const prev = previous?.socket;
    const socket: SocketState = {
      family: sock.family,
      protocol: sock.protocol ?? prev?.protocol,
      // `TCP:[29082]` (not connected yet) keeps what connect()/bind() said.
      peer: sock.peer ?? prev?.peer,
      local: sock.local ?? prev?.local,
    };
    return socketEntry(socket, cloexec, text);
  }
  // `-yy` adds device details after a path: `/dev/pts/0<char 136:0>`.
  const nested = text.indexOf('<');
  const path = decorationText(
    nested === -1 ? text : text.slice(0, nested),
    0,
    nested === -1 ? text.length : nested,
  );
  // The open's own event paths when they name the same file: one array for all its events.
  return fileEntry(
    path,
    cloexec,
    text,
    eventPaths?.length === 1 && eventPaths[0] === path ? eventPaths : undefined,
  );
}

/**
 * The decoration on the return value (`= 3</etc/ld.so.cache>`), which the parser's `ret`
 * leaves out: found in `raw` after the last ` = RET<`. undefined without one.
 */
export function returnDecoration(e: SyscallEvent): string | undefined {
  const ret = e.ret;
  if (ret === undefined) return undefined;
  const raw = e.raw;
  // No `<` anywhere (plain traces): no decoration, found by one native scan instead of the
  // runtime call lastIndexOf is.
  if (raw.indexOf('<') === -1) return undefined;
  // The return part is the last ` = ` of the line (strace never prints one after it).
  const at = raw.lastIndexOf(' = ');
  if (at === -1 || raw.charCodeAt(at + 3 + ret.length) !== 60 || !raw.startsWith(ret, at + 3))
    return undefined;
  const fd = readFd(raw, at + 3);
  if (fd === undefined || decorStart === -1) return undefined;
  return raw.slice(decorStart, decorEnd);
}

/** `[3, 4]` (pipe, pipe2, socketpair's array) at `at`: the two fds and their decorations. */
export function readFdPair(args: string, at: number): Array<[number, string | undefined]> {
  const out: Array<[number, string | undefined]> = [];
  if (args.charCodeAt(at) !== 91) return out;
  let i = at + 1;
  for (let k = 0; k < 2; k++) {
    while (args.charCodeAt(i) === 32 || args.charCodeAt(i) === 44) i++;
    const fd = readFd(args, i);
    if (fd === undefined) break;
    out.push([fd, decorStart === -1 ? undefined : args.slice(decorStart, decorEnd)]);
    i = readEnd;
  }
  return out;
}
