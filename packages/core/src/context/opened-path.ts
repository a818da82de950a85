/**
 * The file an open really opened, from strace `-y`'s return decoration (`= 3</real/path>`):
 * a symlink (`ln -s ~/.ssh/id_rsa x; cat x`) names its target there, while the call names
 * the link. Rules judge the target; alerts show both.
 */
import type { SyscallEvent } from '../types.js';

const OPEN_CALLS = new Set(['open', 'openat', 'openat2', 'creat']);

/** The absolute path `-y` shows an open returned, or undefined (not an open, failed, no `-y`). */
export function openedPath(e: SyscallEvent): string | undefined {
  if (!OPEN_CALLS.has(e.syscall)) return undefined;
  const ret = e.ret;
  if (ret === undefined || ret.charCodeAt(0) === 45 /* - */) return undefined;
  const raw = e.raw;
  // Without -y (or -T) the line ends in the return value: one character says there is nothing to find.
  const last = raw.charCodeAt(raw.length - 1);
  if (last !== 62 /* > */ && last !== 41 /* ) of (INJECTED) */) return undefined;
  // `) = 3</real/path>`: the return is near the end, so the search is short.
  const eq = raw.lastIndexOf(') = ');
  const start = eq + 4 + ret.length + 1;
  if (eq < 0 || raw.charCodeAt(start - 1) !== 60 /* < */ || !raw.startsWith(ret, eq + 4)) return undefined;
  let end = raw.length;
  // Trailing ` <0.000039>` (-T) or ` (INJECTED)` after the decoration.
  if (raw.charCodeAt(end - 1) === 41 /* ) */ && raw.endsWith(' (INJECTED)')) end -= 11;
  const lt = raw.lastIndexOf(' <', end);
  if (lt > start && /^ <\d+\.\d+>$/.test(raw.slice(lt, end))) end = lt;
  if (raw.charCodeAt(end - 1) !== 62 /* > */ || end - 1 <= start) return undefined;
  let path = raw.slice(start, end - 1);
  // -yy decorates a device with its numbers: `</dev/null<char 1:3>>`.
  if (path.charCodeAt(path.length - 1) === 62 /* > */) {
    const device = path.lastIndexOf('<');
    if (device > 0 && /^<(?:char|block) \d+:\d+>$/.test(path.slice(device))) path = path.slice(0, device);
  }
  return path.startsWith('/') ? path : undefined;
}

/** {@link openedPath} when it is not the path the call named (a symlink, a bind mount), else undefined. */
export function openedElsewhere(e: SyscallEvent): string | undefined {
  const opened = openedPath(e);
  return opened === undefined || opened === e.paths?.[0] ? undefined : opened;
}
