/**
 * A complete audit event → records: a SyscallEvent per SYSCALL (the first one) and per
 * SECCOMP record, else one AuditRecordEvent.
 */
import { errnoName, resolveArch, syscallName } from '../../syscalls/index.js';
import type { AuditDetails, AuditRecordEvent, ParsedRecord, SyscallEvent } from '../../types.js';
import type { AvcFacts } from './avc.js';
import type { ValueDecoder } from './decoder.js';
import { MAX_ARG_CHARS, MAX_ARGS, type PendingEvent } from './event.js';
import { decodeArgs } from './execve.js';
import { digitsAt } from './fields.js';
import { readExit, resolveSyscall, seccompAction, signalNumber } from './interpret.js';
import type { Identity, SyscallRecord } from './syscall-record.js';

/** Appends the records this event stands for to `out`. */
export function emitEvent(
  p: PendingEvent,
  out: ParsedRecord[],
  deniedErrnos: ReadonlySet<string>,
  decoder: ValueDecoder,
): void {
  emitRecords(p, out, deniedErrnos, decoder);
  if (p.skippedArgs > 0) {
    const why = `index far past the arguments seen, or arguments over ${MAX_ARG_CHARS} characters`;
    out.push(eventIssue(p, `${p.skippedArgs} EXECVE argument fields skipped (${why})`));
  }
  if (p.overflow > 0) out.push(eventIssue(p, `${p.overflow} records past the caps of one event not kept`));
  if (p.afterEnd)
    out.push(
      eventIssue(
        p,
        'records came after the event had ended (its EOE): the kernel writes none there, so the event was cut in two (a forged or misplaced EOE) and what it acted on is in doubt',
      ),
    );
  if (p.repeated > 0)
    out.push(
      eventIssue(
        p,
        `${p.repeated} record(s) the kernel writes once per event came again (first: a second ${p.firstRepeated}): a line that is not the kernel's was mixed in, so what the event acted on is in doubt`,
      ),
    );
  const announced = p.syscallCount > 0 ? p.syscalls[0]?.items : undefined;
  if (announced !== undefined && announced > p.pathCount && p.overflow === 0)
    out.push(
      eventIssue(
        p,
        `SYSCALL says items=${announced} but ${p.pathCount === 0 ? 'no' : p.pathCount} PATH record${p.pathCount === 1 ? '' : 's'} arrived (a record lost): ${p.pathCount === 0 ? 'the files it acted on are unknown' : 'not every file it acted on is known'}`,
      ),
    );
  const missing = missingArgs(p);
  if (missing > 0)
    out.push(
      eventIssue(
        p,
        `EXECVE says argc=${p.argc} but ${missing} of the arguments never arrived (a record lost): the command line is incomplete`,
      ),
    );
}

/** Arguments `argc=` announced (up to what is kept) that no EXECVE field brought. */
function missingArgs(p: PendingEvent): number {
  // Fields already reported skipped are not counted again.
  if (p.argc === undefined || p.skippedArgs > 0) return 0;
  let present = 0;
  for (const a of p.args ?? []) if (a !== undefined) present++;
  return Math.max(0, Math.min(p.argc, MAX_ARGS) - present);
}

/** An issue about event `p` (built only when there is one: most events have none). */
function eventIssue(p: PendingEvent, what: string): ParsedRecord {
  const raw = p.firstLine;
  return {
    kind: 'issue',
    code: 'malformed_audit_record',
    message: `line ${p.firstLineNo}: audit event ${p.serial ?? '?'}: ${what}`,
    raw: raw.length > 240 ? raw.slice(0, 240) : raw,
    line: p.firstLineNo,
  };
}

function emitRecords(
  p: PendingEvent,
  out: ParsedRecord[],
  deniedErrnos: ReadonlySet<string>,
  decoder: ValueDecoder,
): void {
  const syscalls = p.syscalls;
  const count = p.syscallCount;
  if (count === 0) {
    const audit = details(p, decoder);
    const event: AuditRecordEvent = {
      kind: 'audit',
      source: 'audit',
      recordTypes: audit.recordTypes,
      denied: p.avcDenied,
      raw: p.avcLine ?? p.firstLine,
      line: p.avcLine === undefined ? p.firstLineNo : p.avcLineNo,
      audit,
    };
    if (p.time !== undefined) event.time = p.time;
    if (p.serial !== undefined) event.serial = p.serial;
    if (p.pid !== undefined) event.pid = p.pid;
    if (p.node !== undefined) event.host = p.node;
    out.push(event);
    return;
  }
  if (count === 1) {
    // The usual event: its details are built for it alone, no copy needed.
    out.push(syscallEvent(p, syscalls[0]!, undefined, deniedErrnos, decoder));
    return;
  }
  // Each SYSCALL and SECCOMP record is an event of its own (a repeated serial's second
  // SYSCALL record too: no record is dropped), sharing the event's details.
  const base = details(p, decoder);
  for (let i = 0; i < count; i++) out.push(syscallEvent(p, syscalls[i]!, base, deniedErrnos, decoder));
}

/**
 * The event of one SYSCALL/SECCOMP record. `base`: the event's details shared by several
 * records (copied), else they are built for this event alone.
 */
function syscallEvent(
  p: PendingEvent,
  rec: SyscallRecord,
  base: AuditDetails | undefined,
  deniedErrnos: ReadonlySet<string>,
  decoder: ValueDecoder,
): SyscallEvent {
  let name: string;
  let nr: number | undefined;
  let arch: string | undefined = rec.arch === undefined ? undefined : resolveArch(rec.arch);
  if (rec.nr >= 0) {
    // Plain decimal number: resolveSyscall's numeric case without the text.
    nr = rec.nr;
    const table = arch ?? (rec.arch === undefined ? 'x86_64' : undefined);
    if (arch === 'x86_64' && nr >= 0x40000000) arch = 'x32';
    name = (table === undefined ? undefined : syscallName(nr, table)) ?? `syscall_${nr}`;
  } else {
    const r = resolveSyscall(rec.syscall, rec.arch);
    name = r.name;
    nr = r.nr;
    arch = r.arch;
  }
  let ret: string | undefined;
  let errno: string | undefined;
  let denied: boolean;
  let exit: number | undefined;
  let action: ReturnType<typeof seccompAction>;
  let signal: number | undefined;
  const success = rec.success;
  if (rec.seccomp) {
    action = seccompAction(rec.code);
    signal = rec.sig === undefined ? undefined : signalNumber(rec.sig);
    errno = action?.errno;
    denied = action === undefined ? signal === 31 : action.blocks;
  } else {
    const text = rec.exit;
    if (text !== undefined) {
      ret = text;
      let exitErrno: string | undefined;
      const neg = text.charCodeAt(0) === 45;
      const n = digitsAt(text, neg ? 1 : 0, text.length);
      if (n >= 0) {
        // Plain decimal: readExit's numeric case.
        exit = neg ? -n : n;
        exitErrno = exit < 0 && exit > -4096 ? errnoName(-exit) : undefined;
      } else {
        const r = readExit(text);
        exit = r.exit;
        exitErrno = r.errno;
      }
      if (exitErrno !== undefined && success !== true) errno = exitErrno;
    }
    // An AVC that says "denied" on a call that succeeded is SELinux in permissive mode (old
    // kernels print no `permissive=`): it would have been denied, it was not.
    denied =
      (success === false && errno !== undefined && deniedErrnos.has(errno)) ||
      (p.avcDenied && success !== true);
  }
  let audit: AuditDetails | undefined;
  if (base === undefined && success !== undefined && exit !== undefined) {
    audit = usualDetails(p, rec, success, exit, decoder);
    // ENRICHED logs (auditd's default) name the user: a key or two past the literal.
    if (audit !== undefined && rec.user !== undefined) audit.user = rec.user;
    if (audit !== undefined && rec.loginUser !== undefined) audit.loginUser = rec.loginUser;
  }
  if (audit === undefined) {
    audit = base === undefined ? details(p, decoder) : { ...base };
    applyIdentity(audit, rec);
    if (rec.seccomp) {
      if (action !== undefined) audit.seccompAction = action.name;
      if (signal !== undefined) audit.signal = signal;
    } else {
      if (success !== undefined) audit.success = success;
      if (exit !== undefined) audit.exit = exit;
      if (rec.registers !== undefined) audit.registers = rec.registers;
    }
  }
  const event = syscallRecordEvent(name, denied, rec, p.time, nr, arch, ret, errno, audit);
  if (p.node !== undefined) event.host = p.node;
  return event;
}

/**
 * The SyscallEvent object of an audit syscall, with only the fields that have values (one
 * literal for auditd's usual record).
 */
function syscallRecordEvent(
  name: string,
  denied: boolean,
  rec: SyscallRecord,
  time: number | undefined,
  nr: number | undefined,
  arch: string | undefined,
  ret: string | undefined,
  errno: string | undefined,
  audit: AuditDetails,
): SyscallEvent {
  const pid = rec.pid;
  const raw = rec.line;
  const line = rec.lineNo;
  if (
    pid !== undefined &&
    time !== undefined &&
    nr !== undefined &&
    arch !== undefined &&
    ret !== undefined
  ) {
    // auditd's usual SYSCALL record: the whole event in one literal (an object grown key by
    // key reallocates its property store several times).
    return errno === undefined
      ? {
          kind: 'syscall',
          syscall: name,
          denied,
          raw,
          source: 'audit',
          line,
          pid,
          time,
          nr,
          arch,
          ret,
          audit,
        }
      : {
          kind: 'syscall',
          syscall: name,
          denied,
          raw,
          source: 'audit',
          line,
          pid,
          time,
          nr,
          arch,
          ret,
          errno,
          audit,
        };
  }
  const event: SyscallEvent = { kind: 'syscall', syscall: name, denied, raw, source: 'audit' };
  event.line = line;
  if (pid !== undefined) event.pid = pid;
  if (time !== undefined) event.time = time;
  if (nr !== undefined) event.nr = nr;
  if (arch !== undefined) event.arch = arch;
  if (ret !== undefined) event.ret = ret;
  if (errno !== undefined) event.errno = errno;
  event.audit = audit;
  return event;
}

/**
 * The details of auditd's usual SYSCALL event (CWD, PATH and PROCTITLE records, subject
 * fields, success and exit; EXECVE and `key=` or not) as one literal, key order as
 * `details` + `applyIdentity` give it: an object grown key by key reallocates its property
 * store several times. Undefined for any other event.
 */
function usualDetails(
  p: PendingEvent,
  rec: SyscallRecord,
  success: boolean,
  exit: number,
  decoder: ValueDecoder,
): AuditDetails | undefined {
  const { cwd, proctitle } = p;
  const { exe, comm, key, uid, auid, registers } = rec;
  if (
    p.ids !== undefined ||
    p.avc !== undefined ||
    p.fields !== undefined ||
    p.saddr !== undefined ||
    p.configChange !== undefined ||
    cwd === undefined ||
    p.pathCount === 0 ||
    proctitle === undefined ||
    exe === undefined ||
    comm === undefined ||
    uid === undefined ||
    auid === undefined
  ) {
    return undefined;
  }
  const serial = p.serial ?? 0;
  const recordTypes = p.types.slice(0, p.typeCount);
  const paths = pathList(p.pathNames, p.pathCount, p.pathItems);
  if (p.args === undefined) {
    return key === undefined
      ? { serial, recordTypes, cwd, paths, proctitle, exe, comm, uid, auid, success, exit, registers }
      : { serial, recordTypes, cwd, paths, proctitle, exe, comm, key, uid, auid, success, exit, registers };
  }
  const argv = decodeArgs(p.args, p.interpreted, decoder);
  return key === undefined
    ? { serial, recordTypes, argv, cwd, paths, proctitle, exe, comm, uid, auid, success, exit, registers }
    : {
        serial,
        recordTypes,
        argv,
        cwd,
        paths,
        proctitle,
        exe,
        comm,
        key,
        uid,
        auid,
        success,
        exit,
        registers,
      };
}

function details(p: PendingEvent, decoder: ValueDecoder): AuditDetails {
  const d: AuditDetails = { serial: p.serial ?? 0, recordTypes: p.types.slice(0, p.typeCount) };
  const interpreted = p.interpreted;
  if (p.ids !== undefined) applyIdentity(d, p.ids);
  if (p.args !== undefined) d.argv = decodeArgs(p.args, interpreted, decoder);
  if (p.cwd !== undefined) d.cwd = p.cwd;
  if (p.pathCount > 0) d.paths = pathList(p.pathNames, p.pathCount, p.pathItems);
  if (p.proctitle !== undefined) d.proctitle = p.proctitle;
  if (p.avc !== undefined) d.avc = avcDetails(p.avc);
  if (p.avcs !== undefined) d.avcs = p.avcs.map(avcDetails);
  if (p.saddr !== undefined) d.saddr = p.saddr;
  if (p.configChange !== undefined) d.configChange = p.configChange;
  if (p.fields !== undefined) d.fields = p.fields;
  return d;
}

function avcDetails(facts: AvcFacts): NonNullable<AuditDetails['avc']> {
  const { lsm, result, operation, profile, name, path } = facts;
  const avc: NonNullable<AuditDetails['avc']> = { lsm, result };
  if (operation !== undefined) avc.operation = operation;
  if (profile !== undefined) avc.profile = profile;
  if (name !== undefined) avc.name = name;
  if (path !== undefined) avc.path = path;
  return avc;
}

/** Decoded PATH names ordered by `item=` (arrival order among equal items), `(null)`s left out. */
function pathList(names: Array<string | undefined>, count: number, items: number[] | undefined): string[] {
  let sorted = true;
  if (items !== undefined) {
    for (let i = 1; i < count; i++) {
      if (items[i]! < items[i - 1]!) {
        sorted = false;
        break;
      }
    }
  }
  const paths: string[] = [];
  if (sorted) {
    let i = 0;
    while (i < count && names[i] !== undefined) i++;
    // The usual case: every name decoded, in order (one exact-size copy).
    if (i === count) return names.slice(0, count) as string[];
    for (i = 0; i < count; i++) {
      const p = names[i];
      if (p !== undefined) paths.push(p);
    }
    return paths;
  }
  // A stable sort by item=.
  const order = items!.map((_, i) => i).sort((a, b) => items![a]! - items![b]!);
  for (const i of order) {
    const p = names[i];
    if (p !== undefined) paths.push(p);
  }
  return paths;
}

function applyIdentity(d: AuditDetails, ids: Identity): void {
  if (ids.exe !== undefined) d.exe = ids.exe;
  if (ids.comm !== undefined) d.comm = ids.comm;
  if (ids.key !== undefined) d.key = ids.key;
  if (ids.uid !== undefined) d.uid = ids.uid;
  if (ids.auid !== undefined) d.auid = ids.auid;
  if (ids.user !== undefined) d.user = ids.user;
  if (ids.loginUser !== undefined) d.loginUser = ids.loginUser;
}
