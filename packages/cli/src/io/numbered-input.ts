import { closeSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  createNumberedCallReader,
  type NumberedCallLayout,
  type ParsedRecord,
  type ParseOptions,
  resolveArch,
  syscallName,
} from '@syscan/core';
import { InvalidArgumentError, Option } from 'commander';
import { type InputSpec, readBatches, readChunks } from './input.js';
import type { Progress } from './progress.js';

/** `--numbers <layout>`: read plain call numbers (UNM, ADFA-LD) instead of strace or audit text. */
export function numbersOption(): Option {
  return new Option(
    '--numbers <layout>',
    "input is syscall numbers: 'pid-call' = `PID NUMBER` a line (UNM), 'calls' = numbers, one process per file (ADFA-LD); a file of nothing but numbers is read so without it",
  ).choices(['pid-call', 'calls']);
}

/** `--arch <arch>`: the table that names those numbers (default: none, `nr<N>`). */
export function numbersArchOption(): Option {
  return new Option(
    '--arch <arch>',
    'with --numbers: name the numbers from this arch’s syscall table',
  ).argParser((value) => {
    if (resolveArch(value) === undefined) throw new InvalidArgumentError(`unknown arch '${value}'`);
    return value;
  });
}

/** The records of one input of numbers, a batch per chunk read (memory flat: a chunk at a time). */
export async function* readNumberedBatches(
  spec: InputSpec,
  stdin: Readable,
  layout: NumberedCallLayout,
  arch: string | undefined,
  progress?: Progress,
): AsyncGenerator<ParsedRecord[], void, undefined> {
  const reader = createNumberedCallReader(
    layout,
    arch === undefined ? undefined : (nr) => syscallName(nr, arch),
  );
  const decoder = new TextDecoder();
  for await (const chunk of readChunks(spec, stdin, progress)) {
    const records = reader.push(decoder.decode(chunk, { stream: true }));
    if (records.length > 0) yield records;
  }
  const rest = [...reader.push(decoder.decode()), ...reader.end()];
  if (rest.length > 0) yield rest;
}

/** What --numbers and --arch set. */
export interface NumbersOptions {
  numbers?: NumberedCallLayout | undefined;
  arch?: string | undefined;
}

/** The records of one input: numbers when `opts.numbers` says so, else strace or audit text. */
export function readInputBatches(
  spec: InputSpec,
  stdin: Readable,
  opts: NumbersOptions,
  parseOptions: ParseOptions,
  progress?: Progress,
): AsyncGenerator<ParsedRecord[], unknown, undefined> {
  return opts.numbers === undefined
    ? readBatches(spec, stdin, parseOptions, progress)
    : readNumberedBatches(spec, stdin, opts.numbers, opts.arch, progress);
}

/** Bytes looked at to tell a file of numbers from a trace. */
const SNIFF_BYTES = 4096;
const NUMBERS_LINE = /^[ \t]*\d+(?:[ \t]+\d+)*[ \t]*$/;

/**
 * What --numbers is for one input: as given, else the layout of a file that holds nothing
 * but numbers (public data sets ship so; strace and audit lines never are).
 */
export function numbersFor(spec: InputSpec, opts: NumbersOptions): NumbersOptions {
  return { numbers: opts.numbers ?? sniffNumberedLayout(spec), arch: opts.arch };
}

/**
 * The numbered layout of a regular file whose first lines are nothing but whole numbers:
 * `pid-call` when there are several lines of exactly two, else `calls`; undefined for
 * anything else (text, stdin, a FIFO, which cannot be read twice).
 */
export function sniffNumberedLayout(spec: InputSpec): NumberedCallLayout | undefined {
  if (spec.path === '-' || spec.size === undefined || spec.size === 0) return undefined;
  const head = Buffer.alloc(Math.min(SNIFF_BYTES, spec.size));
  let read = 0;
  try {
    const fd = openSync(spec.path, 'r');
    try {
      read = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined; // the real read reports the error
  }
  let text = head.subarray(0, read).toString('latin1');
  // A partial last line (or number) is left out unless the whole file was read.
  if (read < spec.size) {
    const newline = text.lastIndexOf('\n');
    text = text.slice(0, newline >= 0 ? newline : text.search(/\s\S*$/));
  }
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length === 0 || !lines.every((line) => NUMBERS_LINE.test(line))) return undefined;
  const pairs = lines.every((line) => line.trim().split(/[ \t]+/).length === 2);
  return lines.length > 1 && pairs ? 'pid-call' : 'calls';
}
