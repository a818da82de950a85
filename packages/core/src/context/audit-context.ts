/**
 * Context from Linux audit events: the event carries its own facts (SYSCALL's pid, ppid,
 * ids, exe, comm; EXECVE/PROCTITLE argv; CWD; PATH names; SOCKADDR), so nothing has to be
 * followed over time. The process table still keeps each pid's latest facts, so that rules
 * can walk ancestors through `ppid`, and an unchanged process shares one snapshot.
 */
import { detach } from '../detach.js';
import type { AuditDetails, AuditRecordEvent, SyscallEvent } from '../types.js';
import { normalizePath, resolvePath } from './paths.js';
import { FdTable, type ProcessTable, TrackedProcess } from './process-table.js';
import { decodeAuditSockaddr } from './sockaddr.js';

/** Audit shows no fds: its processes' tables stay empty (and allocate nothing). */
const NO_FDS = { max: 1, forgotten: 0 };

/** audit's "unset" id (auid/ses of a process that never logged in). */
const UNSET = 4294967295;

/** Architectures whose audit records hold host-order fields in big-endian. */
const BIG_ENDIAN_ARCHES = new Set([
  'ppc64',
  'ppc',
  's390x',
  's390',
  'mips',
  'mips64',
  'mips64n32',
  'sparc',
  'sparc64',
  'parisc',
  'm68k',
]);

/** Calls whose SOCKADDR is the caller's own address, not a peer. */
const LOCAL_SOCKADDR_CALLS = new Set(['bind', 'getsockname']);

export interface AuditLimits {
  readonly maxArgs: number;
  readonly maxArgLength: number;
  readonly maxPathsPerEvent: number;
}

export class AuditContext {
  readonly #table: ProcessTable;
  readonly #limits: AuditLimits;

  constructor(table: ProcessTable, limits: AuditLimits) {
    this.#table = table;
    this.#limits = limits;
  }

  observe(e: SyscallEvent | AuditRecordEvent): void {
    const d = e.audit;
    if (d === undefined) return;
    const process = e.pid === undefined ? undefined : this.#process(e.pid, d, e.raw);
    if (process !== undefined) e.process = process;
    // PATH names are relative to the event's CWD record, else to the cwd last seen for the pid.
    const paths = this.#paths(d, d.cwd ?? process?.cwd);
    if (paths !== undefined) e.paths = paths;
    const saddr = d.saddr ?? d.fields?.['SOCKADDR.saddr'];
    if (saddr !== undefined) {
      const arch = e.kind === 'syscall' ? e.arch : undefined;
      const addr = decodeAuditSockaddr(saddr, arch === undefined ? undefined : BIG_ENDIAN_ARCHES.has(arch));
      if (addr !== undefined) {
        if (e.kind === 'syscall' && LOCAL_SOCKADDR_CALLS.has(e.syscall)) e.local = addr;
        else e.peer = addr;
      }
    }
    if (e.host === undefined && e.raw.startsWith('node=')) {
      const end = e.raw.indexOf(' ', 5);
      const host = e.raw.slice(5, end === -1 ? e.raw.length : end);
      if (host !== '') e.host = host;
    }
  }

  /** Updates the pid's entry with what this event says; unchanged facts keep the snapshot. */
  #process(pid: number, d: AuditDetails, raw: string) {
    const table = this.#table;
    let proc = table.get(pid);
    if (proc === undefined) {
      proc = new TrackedProcess(pid, { cwd: undefined }, new FdTable(NO_FDS));
      table.set(pid, proc);
    }
    let changed = false;
    // The ids run (` ppid=… ses=…`) is read only when it differs from this pid's last one.
    const subject = subjectBlock(raw);
    if (subject === undefined) {
      const fields = d.fields;
      if (fields !== undefined && readIds(proc, (key) => fields[`SYSCALL.${key}`])) changed = true;
    } else if (subject !== proc.auditSubject) {
      // Held for as long as the process is: a copy, never a slice that keeps the read chunk alive.
      proc.auditSubject = detach(subject);
      if (readSubjectIds(proc, subject)) changed = true;
    }
    if (d.uid !== undefined && d.uid !== UNSET && d.uid !== proc.uid) {
      proc.uid = d.uid;
      changed = true;
    }
    if (d.auid !== undefined && d.auid !== UNSET && d.auid !== proc.auid) {
      proc.auid = d.auid;
      changed = true;
    }
    // A record that gives an id gives its name or none: a name of an earlier uid is not kept.
    const user = d.uid === undefined && d.user === undefined ? proc.user : d.user;
    if (user !== proc.user) {
      proc.user = user === undefined ? undefined : detach(user);
      changed = true;
    }
    const loginUser = d.auid === undefined && d.loginUser === undefined ? proc.loginUser : d.loginUser;
    if (loginUser !== proc.loginUser) {
      proc.loginUser = loginUser === undefined ? undefined : detach(loginUser);
      changed = true;
    }
    if (d.exe !== undefined && d.exe !== proc.exe) {
      proc.exe = detach(d.exe);
      changed = true;
    }
    if (d.comm !== undefined && d.comm !== proc.comm) {
      proc.comm = detach(d.comm);
      changed = true;
    }
    if (d.cwd !== undefined && d.cwd !== proc.fs.cwd) {
      proc.fs.cwd = detach(d.cwd);
      changed = true;
    }
    if (this.#argv(proc, d)) changed = true;
    if (changed) proc.changed();
    return proc.snapshot();
  }

  /** argv from EXECVE, else PROCTITLE split at its (NUL → space) separators; capped. */
  #argv(proc: TrackedProcess, d: AuditDetails): boolean {
    const source: string | readonly string[] | undefined = d.argv ?? d.proctitle;
    if (source === undefined || sameSource(source, proc.auditArgvSource)) return false;
    const list = typeof source === 'string' ? source.split(' ') : source;
    proc.auditArgvSource = typeof source === 'string' ? detach(source) : Object.freeze(list.map(detach));
    const { maxArgs, maxArgLength } = this.#limits;
    let truncated = list.length > maxArgs;
    const argv = list.slice(0, maxArgs).map((a) => {
      if (a.length <= maxArgLength) return detach(a);
      truncated = true;
      return detach(a.slice(0, maxArgLength));
    });
    const old = proc.argv;
    if (old !== undefined && old.length === argv.length && old.every((a, i) => a === argv[i])) return false;
    proc.argv = Object.freeze(argv);
    proc.argvTruncated = truncated;
    return true;
  }

  /**
   * PATH names resolved against `cwd` (AVC_PATH paths come with them), then what the AVC
   * and AppArmor verdicts name: SELinux `path=`, AppArmor's absolute `name=` (SELinux's
   * `name=` is a bare file name, not a path, and is left out). Deduplicated, capped.
   */
  #paths(d: AuditDetails, cwd: string | undefined): string[] | undefined {
    const names = d.paths;
    const avc = d.avc;
    if ((names === undefined || names.length === 0) && avc === undefined) return undefined;
    const max = this.#limits.maxPathsPerEvent;
    const out: string[] = [];
    const add = (path: string | undefined): void => {
      if (path !== undefined && out.length < max && !out.includes(path)) out.push(path);
    };
    for (const name of names ?? []) {
      if (name !== '' && name !== '(null)') add(resolvePath(cwd, name));
    }
    // The deciding verdict first, then the others of the event.
    for (const verdict of avc === undefined ? (d.avcs ?? []) : [avc, ...(d.avcs ?? [])]) {
      add(absolute(verdict.path));
      add(absolute(verdict.name));
    }
    return out.length === 0 ? undefined : out;
  }
}

function absolute(path: string | undefined): string | undefined {
  return path !== undefined && path.charCodeAt(0) === 47 ? normalizePath(path) : undefined;
}

/** The subject ids of a record: from ` ppid=` (or ` pid=`) up to ` comm=` or `msg='`. */
function subjectBlock(raw: string): string | undefined {
  let start = raw.indexOf(' ppid=');
  if (start === -1) start = raw.indexOf(' pid=');
  if (start === -1) return undefined;
  let end = raw.indexOf(' comm=', start);
  if (end === -1) end = raw.indexOf(" msg='", start);
  if (end === -1 || end - start > MAX_SUBJECT) end = Math.min(raw.length, start + MAX_SUBJECT);
  return raw.slice(start, end);
}

/** Longest ids run read (the kernel's is about 250 characters). */
const MAX_SUBJECT = 1024;

/** Sets the ids `get` finds (numbers; audit's unset and non-numeric values left out); true when one changed. */
function readIds(proc: TrackedProcess, get: (key: string) => string | undefined): boolean {
  let changed = false;
  for (const key of ID_KEYS) {
    const v = numeric(get(key));
    if (v === undefined || v === UNSET || proc[key] === v) continue;
    proc[key] = v;
    changed = true;
  }
  const tty = get('tty');
  if (tty !== undefined && tty !== '(none)' && tty !== proc.tty) {
    proc.tty = tty;
    changed = true;
  }
  return changed;
}

const ID_KEYS = ['ppid', 'uid', 'euid', 'gid', 'egid', 'auid', 'ses'] as const;
/** Index in ID_KEYS of the tty, read as text. */
const TTY = ID_KEYS.length;
const KEY_TEXT = [...ID_KEYS.map((k) => `${k}=`), 'tty='];

/**
 * readIds over a subject block in one pass: every ` key=value` (anchored on the space, so
 * `auid=` is never `uid=`; the first of a key counts), numbers read in place. One walk over
 * its spaces instead of a search per id (the audit tracker's hottest line).
 */
function readSubjectIds(proc: TrackedProcess, block: string): boolean {
  let changed = false;
  let seen = 0;
  let space = block.indexOf(' ');
  while (space !== -1) {
    const k = space + 1;
    const next = block.indexOf(' ', k);
    const key = keyAt(block, k);
    if (key !== -1 && (seen & (1 << key)) === 0) {
      seen |= 1 << key;
      const v = k + KEY_TEXT[key]!.length;
      const end = next === -1 ? block.length : next;
      if (key === TTY) {
        const tty = block.slice(v, end);
        if (tty !== '(none)' && tty !== proc.tty) {
          proc.tty = tty;
          changed = true;
        }
      } else {
        const n = digitsAt(block, v, end);
        const field = ID_KEYS[key]!;
        if (n !== undefined && n !== UNSET && proc[field] !== n) {
          proc[field] = n;
          changed = true;
        }
      }
    }
    space = next;
  }
  return changed;
}

/** Which id key (`ppid=` …, or TTY) starts at `k`, or -1. */
function keyAt(block: string, k: number): number {
  let key: number;
  switch (block.charCodeAt(k)) {
    case 112 /* p */:
      key = 0;
      break;
    case 117 /* u */:
      key = 1;
      break;
    case 101 /* e */:
      key = block.charCodeAt(k + 1) === 117 ? 2 : 4;
      break;
    case 103 /* g */:
      key = 3;
      break;
    case 97 /* a */:
      key = 5;
      break;
    case 115 /* s */:
      key = 6;
      break;
    case 116 /* t */:
      key = TTY;
      break;
    default:
      return -1;
  }
  return block.startsWith(KEY_TEXT[key]!, k) ? key : -1;
}

/** numeric() of `s[from, to)` without cutting it out: 1 to 10 decimal digits, else undefined. */
function digitsAt(s: string, from: number, to: number): number | undefined {
  const n = to - from;
  if (n === 0 || n > 10) return undefined;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    v = v * 10 + (c - 48);
  }
  return v;
}

function numeric(text: string | undefined): number | undefined {
  if (text === undefined || text.length === 0 || text.length > 10) return undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(text);
}

function sameSource(a: string | readonly string[], b: string | readonly string[] | undefined): boolean {
  if (a === b) return true;
  if (typeof a === 'string' || b === undefined || typeof b === 'string') return false;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
