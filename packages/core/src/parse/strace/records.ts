/** The records the strace reader makes, built in one place so that each keeps one shape. */
import type { ParsedRecord, ProcessInfo, SyscallEvent } from '../../types.js';

/** Longest raw text an issue quotes. */
export const RAW_SAMPLE = 240;

/** An `<unfinished …>` half waiting for its `<… resumed>` line. */
export interface PendingCall {
  syscall: string;
  raw: string;
  line: number;
  pid: number | undefined;
  time: number | undefined;
  nr: number | undefined;
  /** `-Y`'s comm of the pid, when shown. */
  comm: string | undefined;
  args: string;
}

/** The event of a half that will never be resumed (input ended, the process died, or a second half came). */
export function unfinishedEvent(call: PendingCall): SyscallEvent {
  return {
    kind: 'syscall',
    syscall: call.syscall,
    denied: false,
    raw: call.raw,
    source: 'strace',
    line: call.line,
    pid: call.pid,
    time: call.time,
    nr: call.nr,
    args: call.args,
    ret: undefined,
    errno: undefined,
    durationUs: undefined,
    unfinished: true,
    resumedOnly: undefined,
    injected: undefined,
    truncated: undefined,
    process: shownProcess(call.pid, call.comm),
    // The context tracker's fields (see StraceParser's #event: the same shape).
    paths: undefined,
    peer: undefined,
    local: undefined,
  };
}

/**
 * The process as the line itself shows it: `-Y`'s `1234<comm>` gives pid and comm (the
 * context tracker fills in the rest later). Undefined without a comm.
 */
export function shownProcess(pid: number | undefined, comm: string | undefined): ProcessInfo | undefined {
  return comm === undefined || pid === undefined ? undefined : { pid, comm };
}

export function tracer(
  event: 'attached' | 'detached' | 'summary' | 'message',
  raw: string,
  line: number,
  pid: number | undefined,
): ParsedRecord {
  return { kind: 'tracer', source: 'strace', event, pid, raw, line };
}

export function issue(
  raw: string,
  line: number,
  why: string,
  code: 'unrecognised_syscall_line' | 'trace_ends_mid_line' = 'unrecognised_syscall_line',
): ParsedRecord {
  return {
    kind: 'issue',
    code,
    message: `line ${line}: unrecognised strace line: ${why}`,
    raw: raw.length > RAW_SAMPLE ? raw.slice(0, RAW_SAMPLE) : raw,
    line,
  };
}

export function hasIssue(records: ParsedRecord[]): boolean {
  for (const r of records) if (r.kind === 'issue') return true;
  return false;
}
