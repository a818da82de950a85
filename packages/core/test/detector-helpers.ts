import type { SyscallEvent } from '../src/index.js';

/** A syscall event as a parser would give it (strace form unless `source` says otherwise). */
export function ev(syscall: string, fields: Partial<SyscallEvent> = {}): SyscallEvent {
  const denied = fields.denied ?? false;
  return {
    kind: 'syscall',
    syscall,
    denied,
    raw: `${syscall}(3) = ${denied ? '-1 EACCES (Permission denied)' : '0'}`,
    source: 'strace',
    ...fields,
  };
}

/** `n` copies of an event. */
export function many(n: number, syscall: string, fields: Partial<SyscallEvent> = {}): SyscallEvent[] {
  return Array.from({ length: n }, () => ev(syscall, fields));
}

/** A hand-driven clock for `now`. */
export function manualClock(start = 0): {
  now: () => number;
  set: (ms: number) => void;
  advance: (ms: number) => void;
} {
  let t = start;
  return {
    now: () => t,
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}
