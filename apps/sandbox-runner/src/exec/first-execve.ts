/**
 * The command's own execve, named. Isolated, strace runs from an execute-only copy, which
 * makes it non-dumpable, and the command it forks stays so until its execve completes: strace
 * (without CAP_SYS_PTRACE in the namespace) cannot read the command's memory at that call's
 * entry and prints its arguments as addresses, `4     execve(0x7ffc…, 0x7ffc…, 0x5593…) = 0`.
 * Without a path and argv the trace never names the command's process: its alerts lose exe
 * and argv, rules their `proc.*` fields, and the sequence model its program (every run would
 * be a program it never learned). The runner knows what strace was told to run, so that one
 * line gets the path and argv written in, as strace decodes them when it can.
 */
import { findExecutable } from './locate.js';

/** The undecoded first line: pid, the three addresses, a successful return. */
const UNDECODED = /^(\d+ +)execve\(0x[0-9a-f]+, 0x[0-9a-f]+, (0x[0-9a-f]+)\)( += 0)$/;
/** Longer than any undecoded execve line: the first line is not one. */
const MAX_LINE = 160;
/** What is written in at most, cut as strace cuts (`"…"...`, `, ...]`): the line stays short. */
const MAX_ARG_BYTES = 4096;
const MAX_ARGS = 256;

const NOTHING = new Uint8Array(0);

export class FirstExecve {
  readonly #path: string | undefined;
  readonly #argv: readonly string[];
  #pending = true;
  /** The first line's start while its end has not come (strace writes an execve's entry and return apart). */
  #held: Buffer | undefined;

  /** `argv` as strace runs it, looked up on `searchPath` as strace does when it has no slash. */
  constructor(argv: readonly string[], searchPath: string) {
    const file = argv[0];
    this.#argv = argv;
    this.#path =
      file === undefined ? undefined : file.includes('/') ? file : findExecutable(file, searchPath);
  }

  /**
   * The trace's bytes as handed on: only its first line can change, and only when undecoded.
   * Until that line is whole, nothing is handed on (at most {@link MAX_LINE} bytes are held).
   */
  pass(chunk: Uint8Array): Uint8Array {
    if (!this.#pending) return chunk;
    if (this.#path === undefined) {
      this.#pending = false;
      return chunk;
    }
    // The reader reuses its buffer: what is held is a copy.
    const bytes = this.#held === undefined ? chunk : Buffer.concat([this.#held, chunk]);
    const nl = bytes.indexOf(10);
    if (nl === -1 && bytes.length <= MAX_LINE) {
      this.#held = Buffer.from(bytes);
      return NOTHING;
    }
    this.#pending = false;
    this.#held = undefined;
    const end = nl === -1 ? bytes.length : nl;
    if (end > MAX_LINE) return bytes;
    const m = UNDECODED.exec(Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('latin1'));
    if (m === null) return bytes;
    const shown = this.#argv.slice(0, MAX_ARGS).map(cString);
    if (this.#argv.length > MAX_ARGS) shown.push('...');
    const args = `${cString(this.#path)}, [${shown.join(', ')}], ${m[2]}`;
    return Buffer.concat([Buffer.from(`${m[1]}execve(${args})${m[3]}`, 'latin1'), bytes.subarray(end)]);
  }

  /** End of the trace: what is still held (a first line that never ended), as it came. */
  flush(): Uint8Array {
    const held = this.#held ?? NOTHING;
    this.#held = undefined;
    this.#pending = false;
    return held;
  }
}

/** A C string as strace prints one: `"`, `\` and every byte outside printable ASCII escaped. */
function cString(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  let out = '"';
  for (const byte of bytes.subarray(0, MAX_ARG_BYTES)) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return bytes.length > MAX_ARG_BYTES ? `${out}"...` : `${out}"`;
}
