/**
 * strace's lines about processes and about itself: `+++ exited with 1 +++`,
 * `--- SIGCHLD {…} ---`, `strace: Process 12 attached`, and every other `strace: …` notice.
 */
import type { ParsedRecord } from '../../types.js';
import type { CallJoiner } from './joiner.js';
import type { PrefixReader } from './prefix.js';
import { issue, tracer } from './records.js';
import { isDigit } from './scan.js';

/**
 * `+++ exited with 1 +++`, `+++ killed by SIGKILL (core dumped) +++`, `+++ superseded by
 * execve in pid 12 +++`, with its prefix already read into `prefix` (`p`: where it ends).
 */
export function readExitLine(
  s: string,
  raw: string,
  lineNo: number,
  out: ParsedRecord[],
  p: number,
  prefix: PrefixReader,
  calls: CallJoiner,
): void {
  if (!s.endsWith(' +++')) {
    out.push(issue(raw, lineNo, 'malformed "+++ … +++" process line'));
    return;
  }
  // The process is gone: a call it left unfinished will never be resumed.
  calls.flushPid(prefix.pid, out);
  const body = s.slice(p + 4, s.length - 4);
  let exitCode: number | undefined;
  let signal: string | undefined;
  let coreDumped: boolean | undefined;
  if (body.startsWith('exited with ')) {
    exitCode = Number(body.slice(12));
    if (!Number.isInteger(exitCode)) exitCode = undefined;
  } else if (body.startsWith('killed by ')) {
    const sp = body.indexOf(' ', 10);
    signal = body.slice(10, sp === -1 ? body.length : sp);
    if (body.endsWith('(core dumped)')) coreDumped = true;
  }
  out.push({
    kind: 'exit',
    source: 'strace',
    pid: prefix.pid,
    time: prefix.time,
    exitCode,
    signal,
    coreDumped,
    raw,
    line: lineNo,
  });
}

/** `--- SIGCHLD {si_signo=SIGCHLD, …} ---` or `--- stopped by SIGSTOP ---`. */
export function readSignalLine(
  s: string,
  raw: string,
  lineNo: number,
  out: ParsedRecord[],
  p: number,
  prefix: PrefixReader,
): void {
  if (!s.endsWith(' ---')) {
    out.push(issue(raw, lineNo, 'malformed "--- SIGNAL … ---" line'));
    return;
  }
  const body = s.slice(p + 4, s.length - 4);
  let signal: string;
  let info: string | undefined;
  if (body.startsWith('stopped by ')) {
    signal = body.slice(11);
  } else {
    const sp = body.indexOf(' ');
    signal = sp === -1 ? body : body.slice(0, sp);
    const open = body.indexOf('{');
    if (open !== -1 && body.endsWith('}')) info = body.slice(open + 1, -1);
  }
  out.push({
    kind: 'signal',
    source: 'strace',
    signal,
    info,
    pid: prefix.pid,
    time: prefix.time,
    raw,
    line: lineNo,
  });
}

/** `strace: Process 123 attached` / `detached`, and every other `strace: …` notice. */
export function readTracerLine(s: string, raw: string, lineNo: number, out: ParsedRecord[]): void {
  if (s.startsWith('strace: Process ')) {
    let i = 16;
    let pid = 0;
    let c = s.charCodeAt(i);
    while (isDigit(c)) {
      pid = pid * 10 + (c - 48);
      c = s.charCodeAt(++i);
    }
    if (i > 16) {
      if (s.startsWith(' attached', i)) {
        out.push(tracer('attached', raw, lineNo, pid));
        return;
      }
      if (s.startsWith(' detached', i)) {
        out.push(tracer('detached', raw, lineNo, pid));
        return;
      }
    }
  }
  out.push(tracer('message', raw, lineNo, undefined));
}
