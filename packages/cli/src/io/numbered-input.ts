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
    "input is syscall numbers: 'pid-call' = `PID NUMBER` a line (UNM), 'calls' = numbers, one process per file (ADFA-LD)",
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

/** The records of one input: numbers when --numbers says so, else strace or audit text. */
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
