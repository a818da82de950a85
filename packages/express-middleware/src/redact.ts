import { type Alert, listArches, syscallNumber } from '@syscan/core';

/** An alert as a 403 shows it: nothing in it is taken verbatim from the withheld output. */
export interface PublicAlert {
  type: Alert['type'];
  severity: Alert['severity'];
  message: string;
  syscall?: string;
  count: number;
  limit?: number;
  /** `sequence_anomaly`: the process's score and the threshold it went over. */
  score?: number;
  threshold?: number;
  sample?: string;
}

/**
 * A 403 must not leak the output it withholds, and the output may be hostile: a command
 * that knows its stdout is blocked can print `ptrace(THE_SECRET) = 0` to get THE_SECRET
 * echoed in an alert sample, or hide it in a pid prefix, a return value or an audit field.
 * So nothing of a sample line is copied: the public sample is rebuilt as `name(…)` from a
 * syscall name found in the kernel tables, plus ` = -1 ERRNO` for a well-known errno. A
 * "syscall" whose name is no syscall of any architecture is stdout text: its name becomes
 * `?` and it has no sample. What a hostile command can still steer is numeric (`count`,
 * `limit`) and the choice of real syscall names: a few bits, no text. The full alerts stay
 * server-side on `res.locals.syscan` and in `onVerdict`.
 */
export function publicAlert(alert: Alert): PublicAlert {
  const name = alert.syscall;
  const real = name !== undefined && isRealSyscall(name);
  const out: PublicAlert = {
    type: alert.type,
    severity: alert.severity,
    message:
      rebuiltMessage(alert) ??
      (name !== undefined && !real ? alert.message.split(name).join('?') : alert.message),
    count: alert.count,
  };
  if (real) out.syscall = name;
  if (alert.limit !== undefined) out.limit = alert.limit;
  if (alert.type === 'sequence_anomaly') {
    if (Number.isFinite(alert.score)) out.score = alert.score;
    if (Number.isFinite(alert.threshold)) out.threshold = alert.threshold;
  }
  if (alert.sample !== undefined) {
    const sample = publicSample(alert.sample, real ? name : undefined);
    if (sample !== undefined) out.sample = sample;
  }
  return out;
}

/**
 * Alerts whose message quotes the record (an AppArmor/SELinux name and profile, a signal, an
 * audit record's type): a fixed phrase stands in for it.
 */
const FIXED_MESSAGES: Partial<Record<Alert['type'], string>> = {
  access_denied: 'access denied by a security module (AppArmor/SELinux)',
  would_deny: 'a security module in complain/permissive mode would have denied an access',
  process_crashed: 'a process crashed (killed by a signal)',
  anomaly_record: 'the audit log reported an anomaly',
  audit_tampering: 'the audit configuration changed or its daemon stopped',
};

/**
 * Messages that quote the trace, rebuilt from what the trace cannot steer: a rule's output
 * interpolates paths and command lines (`file=%fd.name`), a sequence alert names the program
 * from the trace's execve (and lists the programs the server's model knows), an LSM denial
 * its path and profile. Undefined: the message is core's text of syscall names and numbers
 * and stands as it is.
 */
function rebuiltMessage(alert: Alert): string | undefined {
  const fixed = FIXED_MESSAGES[alert.type];
  if (fixed !== undefined) return fixed;
  if (alert.type === 'rule') return `rule '${alert.rule ?? '?'}' matched`;
  if (alert.type !== 'sequence_anomaly') return undefined;
  const { score, threshold } = alert;
  if (score === undefined || threshold === undefined || !Number.isFinite(score))
    return 'calls of a program the sequence model has not learned';
  return `calls unlike normal (score ${score.toFixed(2)} > ${threshold.toFixed(2)})`;
}

/** `name(…)`, with ` = -1 ERRNO` when the line ends in a failure with a well-known errno. */
export function publicSample(raw: string, syscall: string | undefined): string | undefined {
  if (syscall === undefined) return undefined;
  // A joined `<unfinished …>`/`<… resumed>` pair: the return is on the last line.
  const nl = raw.lastIndexOf('\n');
  const ret = FAILED.exec(nl === -1 ? raw : raw.slice(nl + 1));
  const errno = ret?.[1];
  return errno !== undefined && ERRNOS.has(errno) ? `${syscall}(…) = -1 ${errno}` : `${syscall}(…)`;
}

/** `) = -1 EACCES (Permission denied) <0.000012>` at the end of a strace line. */
const FAILED = /\)\s+=\s+-1\s+(E[A-Z0-9]+)(?:\s+\([^()]*\))?(?:\s+<[\d.]+>)?\s*$/;

/** Errno names shown in a 403; others (or crafted ones) are left out. */
const ERRNOS = new Set(
  (
    'EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ENOMEM EACCES EFAULT EBUSY ' +
    'EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS ' +
    'EMLINK EPIPE ENAMETOOLONG ENOSYS ENOTEMPTY ELOOP ENOTSUP EOPNOTSUPP EAFNOSUPPORT EADDRINUSE ' +
    'EADDRNOTAVAIL ENETUNREACH ECONNREFUSED ECONNRESET ETIMEDOUT EINPROGRESS EALREADY ENOTCONN ' +
    'EPROTONOSUPPORT ENOTSOCK EMSGSIZE ENODATA EOVERFLOW ERESTARTSYS ENOKEY EKEYREJECTED'
  ).split(' '),
);

const known = new Map<string, boolean>();
const MAX_KNOWN_CACHE = 4096;

/** True when `name` is a syscall of some architecture core knows. */
export function isRealSyscall(name: string): boolean {
  let hit = known.get(name);
  if (hit === undefined) {
    hit = listArches().some((arch) => syscallNumber(name, arch) !== undefined);
    // Names come from payloads: the cache is cleared when full, never grown past its cap.
    if (known.size >= MAX_KNOWN_CACHE) known.clear();
    known.set(name, hit);
  }
  return hit;
}
