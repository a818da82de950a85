/**
 * One audit event being assembled from the records that share its serial: the facts kept
 * from each record, decoded straight from the record line as it is read (no raw copy
 * first). `emit.ts` turns a complete one into records.
 */
import type { AvcFacts } from './avc.js';
import type { Identity, SyscallRecord } from './syscall-record.js';

/** Caps on what one event may accumulate (a hostile or broken log must not grow memory). */
export const MAX_ARGS = 4096;
export const MAX_ARG_CHARS = 1 << 21;
export const MAX_PATHS = 256;
export const MAX_RECORD_TYPES = 256;
export const MAX_AVCS = 64;
export const MAX_SYSCALL_RECORDS = 64;

/**
 * An event being assembled. Instances are reused (`init`) once emitted: an event lives for
 * dozens of records, long enough to be copied by the young-generation GC, so recycling them
 * saves both the allocation and the copying. Arrays kept across reuse (`types`, `syscalls`,
 * `pathNames`) hold `…Count` valid entries.
 */
export class PendingEvent {
  key: number | string = -1;
  /** `node=`: the host that logged the event. */
  node: string | undefined;
  serial: number | undefined;
  time: number | undefined;
  /** Record sequence number of the latest record (for completion by age). */
  lastSeq = 0;
  firstLine = '';
  firstLineNo = 0;
  interpreted = false;
  readonly types: string[] = [];
  typeCount = 0;
  readonly syscalls: SyscallRecord[] = [];
  syscallCount = 0;
  avc: AvcFacts | undefined;
  /** Every AVC verdict of the event (at most MAX_AVCS), once there is more than one. */
  avcs: AvcFacts[] | undefined;
  avcDenied = false;
  avcLine: string | undefined;
  avcLineNo = 0;
  /** Identity and pid from the first non-syscall record that carries them (`ids` set). */
  ids: Identity | undefined;
  pid: number | undefined;
  /** EXECVE: raw a<N> values, or chunk lists for a<N>[i]. */
  args: Array<string | string[] | undefined> | undefined;
  argChars = 0;
  /** EXECVE fields skipped: index far past the ones seen, or past the event's cap. */
  skippedArgs = 0;
  /** EXECVE `argc=`: how many arguments the kernel logged. */
  argc: number | undefined;
  /** Records (or their values) past one of the caps above, not kept: reported, never silent. */
  overflow = 0;
  /**
   * Records the kernel writes once per event (CWD, PROCTITLE, SOCKADDR, a PATH item number) that came
   * again, and the first of them: a line that is not the kernel's was mixed in (a forged
   * syslog line, a crafted log), so what the event acted on is in doubt. Reported.
   */
  repeated = 0;
  firstRepeated: string | undefined;
  /** Records of an event whose EOE had already come: the kernel writes none, so the event was cut (a forged EOE). */
  afterEnd = false;
  /** CWD/PROCTITLE: seen (the first record wins, even when its value decodes to nothing) and decoded. */
  cwdSeen = false;
  cwd: string | undefined;
  /** PATH decoded `name=`s (undefined: `(null)`), in arrival order. */
  readonly pathNames: Array<string | undefined> = [];
  pathCount = 0;
  /** … and their `item=` numbers, only once one is not its arrival index (else undefined). */
  pathItems: number[] | undefined;
  proctitleSeen = false;
  proctitle: string | undefined;
  /** The CONFIG_CHANGE records' fields (flat copies, capped in number and length). */
  configChange: string[] | undefined;
  /** The first SOCKADDR `saddr=`, raw hex. */
  saddr: string | undefined;
  fields: Record<string, string> | undefined;
  /** Neighbours in the grouper's arrival order while pending (see `pending-index.ts`). */
  olderPending: PendingEvent | undefined;
  newerPending: PendingEvent | undefined;

  constructor(
    key: number | string,
    serial: number | undefined,
    time: number | undefined,
    line: string,
    lineNo: number,
    interpreted: boolean,
  ) {
    this.init(key, serial, time, line, lineNo, interpreted);
  }

  /** Makes this a fresh event (all facts cleared). */
  init(
    key: number | string,
    serial: number | undefined,
    time: number | undefined,
    line: string,
    lineNo: number,
    interpreted: boolean,
  ): void {
    this.key = key;
    this.serial = serial;
    this.time = time;
    this.lastSeq = 0;
    this.firstLine = line;
    this.firstLineNo = lineNo;
    this.interpreted = interpreted;
    this.typeCount = 0;
    this.syscallCount = 0;
    this.avc = undefined;
    this.avcs = undefined;
    this.avcDenied = false;
    this.avcLine = undefined;
    this.avcLineNo = 0;
    this.ids = undefined;
    this.pid = undefined;
    this.args = undefined;
    this.argChars = 0;
    this.skippedArgs = 0;
    this.argc = undefined;
    this.overflow = 0;
    this.repeated = 0;
    this.firstRepeated = undefined;
    this.afterEnd = false;
    this.cwdSeen = false;
    this.cwd = undefined;
    this.pathCount = 0;
    this.pathItems = undefined;
    this.proctitleSeen = false;
    this.proctitle = undefined;
    this.saddr = undefined;
    this.configChange = undefined;
    this.node = undefined;
    this.fields = undefined;
  }

  /**
   * Emitted: drops every reference to the text it was read from, so that an event waiting
   * in the free list does not keep its lines (and so their whole read chunks) alive.
   */
  release(): void {
    this.pathNames.fill(undefined, 0, this.pathCount);
    this.init(-1, undefined, undefined, '', 0, false);
  }

  /** A record the event may hold once came again (see `repeated`). */
  noteRepeated(what: string): void {
    if (this.repeated++ === 0) this.firstRepeated = what;
  }

  addType(type: string): void {
    if (this.typeCount < MAX_RECORD_TYPES) this.types[this.typeCount++] = type;
    else this.overflow++;
  }

  /** Keeps a SYSCALL/SECCOMP record (at most MAX_SYSCALL_RECORDS per event). */
  addSyscall(rec: SyscallRecord): void {
    if (this.syscallCount < MAX_SYSCALL_RECORDS) this.syscalls[this.syscallCount++] = rec;
    else this.overflow++;
  }

  /** Keeps a decoded PATH name with its `item=` (undefined: numbered by arrival). */
  addPath(name: string | undefined, item: number | undefined): void {
    const count = this.pathCount;
    if (count >= MAX_PATHS) {
      this.overflow++;
      return;
    }
    const nr = item ?? count;
    if (this.pathItems === undefined ? nr < count : this.pathItems.includes(nr))
      this.noteRepeated(`PATH item=${nr}`);
    if (this.pathItems === undefined && nr !== count) {
      // Not numbered 0, 1, 2 … in arrival order: keep every item number from now on.
      this.pathItems = [];
      for (let i = 0; i < count; i++) this.pathItems.push(i);
    }
    this.pathItems?.push(nr);
    this.pathNames[count] = name;
    this.pathCount = count + 1;
  }
}
