import type { ParseOptions } from '@syscan/core';
import { SEQUENCE_CHANNELS, SEVERITIES } from '@syscan/core';
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

/**
 * `--channel-weights meanCost=1,setDifference=0`: weights of the sequence model's channels
 * (the others keep their defaults). Names are checked here so a typo is a usage error, not a
 * channel silently left at its default.
 */
export function parseChannelWeights(value: string): Partial<Record<SequenceChannel, number>> {
  const out: Partial<Record<SequenceChannel, number>> = {};
  for (const part of value.split(',')) {
    const [name, weight, extra] = part.split('=').map((s) => s.trim());
    if (name === undefined || weight === undefined || extra !== undefined || name === '' || weight === '')
      throw new InvalidArgumentError(`'${part}' is not NAME=WEIGHT (e.g. meanCost=1,setDifference=0)`);
    if (!(SEQUENCE_CHANNELS as readonly string[]).includes(name))
      throw new InvalidArgumentError(`no channel '${name}' (channels: ${SEQUENCE_CHANNELS.join(', ')})`);
    const w = Number(weight);
    if (!(w >= 0 && Number.isFinite(w)))
      throw new InvalidArgumentError(`the weight of ${name} must be a non-negative number, got '${weight}'`);
    out[name as SequenceChannel] = w;
  }
  return out;
}

type SequenceChannel = (typeof SEQUENCE_CHANNELS)[number];

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
