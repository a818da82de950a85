/**
 * The records syscan reads out of telemetry. One input line (or one audit event made of
 * several lines) becomes one record; everything a consumer acts on is typed here.
 */

import type { ProcessInfo, SocketAddress } from './context/types.js';

export type { ProcessInfo, ProcessLookup, SocketAddress, SocketFamily } from './context/types.js';

/** Where a record came from. */
export type TelemetrySource = 'strace' | 'audit';

/**
 * Who did what to what, attached to events by the context tracker (see `context/`). Every
 * field is optional: the telemetry says what it says, and nothing is guessed.
 */
export interface EventContext {
  /** The calling process, as known when the call was made. */
  process?: ProcessInfo | undefined;
  /** Files the call names, absolute where the trace allows (the first is the call's main target). */
  paths?: readonly string[] | undefined;
  /** Remote end of a socket call (`connect`, `sendto`, `accept`), or audit SOCKADDR. */
  peer?: SocketAddress | undefined;
  /** Local end (`bind`). */
  local?: SocketAddress | undefined;
  /** The host that logged it (audit `node=`). */
  host?: string | undefined;
}

/** Severity of an alert, lowest first. */
export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

/** Audit-specific facts of a syscall event, decoded from the records that share its serial. */
export interface AuditDetails {
  /** `msg=audit(SEC.MS:SERIAL)` serial number. */
  serial: number;
  /** Record types seen for this event, in arrival order (e.g. `['SYSCALL','EXECVE','CWD','PATH','PROCTITLE']`). */
  recordTypes: string[];
  /** `success=yes|no` of the SYSCALL record, when present. */
  success?: boolean;
  /** `exit=` of the SYSCALL record as a number, when numeric. */
  exit?: number;
  /** Decoded `EXECVE` argv (a0, a1, … with `aN_len`/`aN[i]` chunks joined). */
  argv?: string[];
  /** Decoded `CWD` record. */
  cwd?: string;
  /** Decoded `PATH` records' `name=` values, in `item=` order, then `AVC_PATH` records' `path=`. */
  paths?: string[];
  /** Decoded `PROCTITLE` (NUL separators replaced by spaces). */
  proctitle?: string;
  /** Decoded `exe=`. */
  exe?: string;
  /** Decoded `comm=`. */
  comm?: string;
  /** The SYSCALL record's `a0=… a1=… a2=… a3=…` as logged (hex): the call's first arguments, e.g. open flags. */
  registers?: string;
  /** `key=` of the rule that fired (decoded; undefined for `(null)`). */
  key?: string;
  uid?: number;
  auid?: number;
  /** The names the log's host gave `uid` and `auid` (ENRICHED `UID=`/`AUID=`, ausearch -i); none for `unset`. */
  user?: string;
  loginUser?: string;
  /** SOCKADDR record's `saddr=`, raw hex as logged (decoded into `peer` by the context tracker). */
  saddr?: string;
  /** For SECCOMP records: the action named from `code=` (`kill_process`, `kill_thread`, `trap`, `errno`, `trace`, `log`, `allow`, `user_notif`). */
  seccompAction?: string;
  /** For SECCOMP records: `sig=`. */
  signal?: number;
  /** For AVC records: `apparmor="DENIED"` / SELinux `avc: denied { … }` facts. */
  avc?: {
    /** `apparmor` or `selinux`. */
    lsm: 'apparmor' | 'selinux';
    /** e.g. `DENIED`, `ALLOWED`, `denied`, `granted`. */
    result: string;
    /** AppArmor `operation=` or SELinux permission list (`{ read write }` → `read write`). */
    operation?: string;
    profile?: string;
    name?: string;
    /** SELinux `path=` of the object (the AVC record's own, or its AVC_PATH record's). */
    path?: string;
  };
  /** Every AVC/AppArmor verdict of the event, in arrival order, when it has more than one (`avc` is the one that decided). */
  avcs?: Array<NonNullable<AuditDetails['avc']>>;
  /**
   * The CONFIG_CHANGE records' fields as logged (`op=remove_rule key="shadow" list=4 res=1`),
   * when the event holds any: what a rule change or setting did, also when the event is the
   * SYSCALL of the program that made it (auditctl's, or any program's own netlink message, which
   * may carry several changes). At most 8 records of at most 400 characters each.
   */
  configChange?: string[];
  /** All fields of all records, decoded, keyed `TYPE.field` for the first occurrence (e.g. `SYSCALL.a0`, `PATH.name`). Kept small: only present when the parser is asked for it (`auditFields: true`). */
  fields?: Record<string, string>;
}

/**
 * One syscall as the input describes it. `denied` comes from the return value (strace
 * `= -1 EACCES`) or the record's own fields (audit `success=no exit=-13`, SECCOMP, AVC),
 * never from argument text.
 */
export interface SyscallEvent extends EventContext {
  kind: 'syscall';
  /** Syscall name, e.g. `openat` (audit numbers resolved through `arch=`). */
  syscall: string;
  /** True when the kernel or a policy refused the call. */
  denied: boolean;
  /** The input line. For a joined `<unfinished …>`/`<… resumed>` pair, both lines joined with `\n`; for audit, the SYSCALL/SECCOMP/AVC line that carries the syscall. */
  raw: string;
  source: TelemetrySource;
  /** 1-based line number of the first line of this record in the input. */
  line?: number;
  pid?: number;
  /**
   * Event time in milliseconds. Epoch ms for audit and strace `-ttt`; ms since midnight for
   * `-t`/`-tt` (a wrap past midnight adds a day, so time never runs backwards); ms since the
   * first line for `-r`.
   */
  time?: number;
  /** Syscall number, when the input gives one (audit `syscall=59`, strace `-n`). */
  nr?: number;
  /** Architecture name (`x86_64`, `i386`, `aarch64`, …) when the input gives one. */
  arch?: string;
  /** Argument text as printed (strace), without the surrounding parentheses. */
  args?: string;
  /** Return value text as printed, e.g. `3`, `-1`, `0x7f12…`, `?`. */
  ret?: string;
  /** Error name from the return value only, e.g. `ENOENT`, `EACCES`, `ERESTARTSYS`. */
  errno?: string;
  /** `-T` duration in microseconds. */
  durationUs?: number;
  /** True when only the `<unfinished …>` half was seen (input ended or the process died). */
  unfinished?: boolean;
  /** True when only a `<… resumed>` half was seen (e.g. attach mid-call). */
  resumedOnly?: boolean;
  /** strace `(INJECTED)` marker: the return value was injected by strace's fault injection. */
  injected?: boolean;
  /**
   * True when the line was longer than `maxLineLength` and cut: the call is named from the
   * line's head, its arguments are cut and its return value is unknown (a `line_truncated`
   * issue comes with it).
   */
  truncated?: boolean;
  /** Audit details (audit source only). */
  audit?: AuditDetails;
}

/** A signal delivered to a traced process: `--- SIGSYS {si_signo=SIGSYS, …} ---`. */
export interface SignalRecord {
  kind: 'signal';
  source: TelemetrySource;
  signal: string;
  /** The `{…}` siginfo text, without braces. */
  info?: string;
  pid?: number;
  time?: number;
  raw: string;
  line?: number;
}

/** A traced process ended: `+++ exited with 0 +++`, `+++ killed by SIGKILL (core dumped) +++`. */
export interface ExitRecord {
  kind: 'exit';
  source: TelemetrySource;
  pid?: number;
  time?: number;
  /** Exit status when it exited normally. */
  exitCode?: number;
  /** Signal name when it was killed. */
  signal?: string;
  coreDumped?: boolean;
  raw: string;
  line?: number;
}

/** A strace notice about tracing itself: `strace: Process 12 attached`, `… detached`, other `strace:` lines. */
export interface TracerRecord {
  kind: 'tracer';
  source: 'strace';
  /** `attached`, `detached`, `summary` (a `-c`/`-C` table line), or `message`. */
  event: 'attached' | 'detached' | 'summary' | 'message';
  pid?: number;
  raw: string;
  line?: number;
  /** A row of a `-c`/`-C` table (`total` included): what strace counted, read by its header's columns. */
  summaryRow?: SummaryRow | undefined;
}

/** One row of strace's `-c`/`-C` summary table. */
export interface SummaryRow {
  /** The syscall, or `total` for the table's last row. */
  syscall: string;
  /** NaN when the table has no calls column (`-U` without it). */
  calls: number;
  errors: number;
}

/** An audit event that is not about a syscall (USER_*, CONFIG_CHANGE, AVC without SYSCALL, …). */
export interface AuditRecordEvent extends EventContext {
  kind: 'audit';
  source: 'audit';
  /** Record types of the event, e.g. `['USER_LOGIN']`. */
  recordTypes: string[];
  /** True for AVC/AppArmor/SECCOMP denials that carry no syscall. */
  denied: boolean;
  time?: number;
  serial?: number;
  pid?: number;
  raw: string;
  line?: number;
  audit: AuditDetails;
}

/** Why a line was not understood. Malformed input is data, never an exception. */
export type ParseIssueCode =
  /** Looked like a syscall line but could not be read. */
  | 'unrecognised_syscall_line'
  /** A syscall line the input ends inside (strace stopped, or the file was copied, while it wrote it). */
  | 'trace_ends_mid_line'
  /** Line longer than `maxLineBytes`: kept truncated. */
  | 'line_truncated'
  /** An audit record whose shape could not be read. */
  | 'malformed_audit_record'
  /** The kernel said it dropped audit messages (`audit: backlog limit exceeded`, `kauditd_printk_skb: N callbacks suppressed`). */
  | 'audit_messages_lost';

export interface ParseIssue {
  kind: 'issue';
  code: ParseIssueCode;
  message: string;
  raw: string;
  line?: number;
}

/** Anything the parser yields. */
export type ParsedRecord =
  | SyscallEvent
  | SignalRecord
  | ExitRecord
  | TracerRecord
  | AuditRecordEvent
  | ParseIssue;

/**
 * What the parser needs of a byte decoder: the `TextDecoder` interface. Typed structurally
 * because under @types/node `TextDecoder` is a value only, not a type.
 */
export interface Utf8Decoder {
  decode(input?: Uint8Array, options?: { stream?: boolean }): string;
}

/** Options shared by every parser entry point. */
export interface ParseOptions {
  /** Which format to read. `auto` decides per line. Defaults to `'auto'`. */
  source?: 'auto' | TelemetrySource | undefined;
  /** Errno names that make a strace return a denial. Defaults to `['EACCES', 'EPERM']`. */
  deniedErrnos?: readonly string[] | undefined;
  /** Lines longer than this many UTF-16 code units are truncated and flagged. Defaults to 1 MiB (1_048_576). */
  maxLineLength?: number | undefined;
  /** Keep every decoded audit field in `audit.fields`. Defaults to `false` (memory). */
  auditFields?: boolean | undefined;
  /**
   * The pid of strace lines that show none: `strace -ff -o PREFIX` writes each process to
   * `PREFIX.PID` without a pid on its lines. Defaults to none (such lines have no `pid`).
   */
  stracePid?: number | undefined;
  /**
   * Makes the decoder for byte chunks. Defaults to a UTF-8 `TextDecoder`. On Node,
   * `createFastUtf8Decoder` from `@syscan/core/node` decodes ASCII chunks several times faster.
   */
  createDecoder?: (() => Utf8Decoder) | undefined;
}

/** Counters a parser keeps while it reads. */
export interface ParseStats {
  /** Lines read, counted as Rust's `str::lines` does (a final line without `\n` counts; a lone trailing `\n` does not start one). */
  lines: number;
  /** Bytes (or UTF-16 units for string input) read. */
  bytes: number;
  syscallEvents: number;
  /** Records of each kind other than syscall events. */
  otherRecords: number;
  /** Lines that looked like telemetry but were not understood (each also yielded as a `ParseIssue`). */
  issues: number;
  /** Lines cut at `maxLineLength`. */
  truncatedLines: number;
  /**
   * Non-blank lines that no reader recognised as telemetry (program output, another
   * format). When it equals the non-blank lines read, nothing in the input was telemetry.
   */
  unrecognisedLines: number;
}
