import type { ParseOptions } from '@syscan/core';
import { SEVERITIES } from '@syscan/core';
import { createFastUtf8Decoder } from '@syscan/core/node';
import { InvalidArgumentError, Option } from 'commander';

export function sourceOption(): Option {
  return new Option('-s, --source <source>', 'input format; auto decides per line')
    .choices(['auto', 'strace', 'audit'])
    .default('auto');
}

export function severityOption(flags: string, description: string): Option {
  return new Option(flags, description).choices([...SEVERITIES]);
}

export function progressOption(): Option {
  return new Option(
    '--no-progress',
    'no progress bar (it is drawn on stderr only when stderr is a terminal)',
  );
}

export function deniedErrnosOption(): Option {
  return new Option(
    '--denied-errnos <list>',
    'comma-separated errno names that make a strace return a denial (default EACCES,EPERM)',
  ).argParser((value) => {
    const list = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (list.length === 0 || list.some((e) => !/^E[A-Z0-9]+$/.test(e))) {
      throw new InvalidArgumentError('expected errno names such as EACCES,EPERM');
    }
    return list;
  });
}

/** Parses a positive integer option value. */
export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

/** Parses a rate strictly between 0 and 1 (a false-alarm rate). */
export function parseRate(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError('must be a number between 0 and 1 (e.g. 0.01)');
  return n;
}

export interface InputOptions {
  source: 'auto' | 'strace' | 'audit';
  deniedErrnos?: string[] | undefined;
  progress: boolean;
}

export function parseOptionsOf(opts: InputOptions, extra: ParseOptions = {}): ParseOptions {
  return {
    source: opts.source,
    // Files and pipes arrive as bytes; the fast decoder copies ASCII chunks instead of decoding them.
    createDecoder: createFastUtf8Decoder,
    ...(opts.deniedErrnos ? { deniedErrnos: opts.deniedErrnos } : {}),
    ...extra,
  };
}
