import { type Baseline, BaselineLearner, mergeBaselines, type SyscallEvent } from '@syscan/core';
import { Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.js';
import { inputError } from '../errors.js';
import { readBatches, resolveInputs } from '../io/input.js';
import { writeFileAtomic } from '../io/json-file.js';
import { Progress } from '../io/progress.js';
import {
  deniedErrnosOption,
  type InputOptions,
  parseOptionsOf,
  progressOption,
  sourceOption,
} from '../options.js';

interface LearnOptions extends InputOptions {
  output?: string;
  headroom: number;
}

/**
 * `syscan learn`: a baseline from known-good runs. Each input is learned on its own (its
 * own clock: traces of different days must not share a rate window) and the baselines are
 * merged: the union of syscalls, the highest of each limit.
 */
export function makeLearnCommand(ctx: CliContext): Command {
  return new Command('learn')
    .description('learn a baseline (syscalls seen, rate limits with headroom) from known-good traces')
    .argument('[files...]', "strace output or audit logs of normal runs; '-' or none reads stdin")
    .option('-o, --output <file>', 'write the baseline here (default: stdout)')
    .option('--headroom <factor>', 'rate limits = busiest minute seen × factor (>= 1)', parseHeadroom, 1.5)
    .addOption(sourceOption())
    .addOption(deniedErrnosOption())
    .addOption(progressOption())
    .addHelpText(
      'after',
      '\nExamples:\n  strace -f -o good.strace make test\n  syscan learn good.strace -o baseline.json\n  syscan analyze --baseline baseline.json later.strace',
    )
    .action(async (files: string[], opts: LearnOptions) => {
      const inputs = await resolveInputs(files);
      const parseOptions = parseOptionsOf(opts);
      const progress = new Progress(ctx.io.stderr, opts.progress);
      const baselines: Baseline[] = [];
      const events: SyscallEvent[] = [];
      try {
        for (const input of inputs) {
          const learner = new BaselineLearner();
          for await (const batch of readBatches(input, ctx.io.stdin, parseOptions, progress)) {
            events.length = 0;
            for (const record of batch) if (record.kind === 'syscall') events.push(record);
            if (events.length > 0) learner.observe(events);
          }
          if (learner.events > 0) baselines.push(learner.toBaseline({ headroom: opts.headroom }));
        }
      } finally {
        progress.clear();
      }
      if (baselines.length === 0) {
        const names = inputs.map((i) => `'${i.label}'`).join(', ');
        throw inputError(`no syscall events in ${names}: nothing to learn (is it strace or audit output?)`);
      }
      const baseline = baselines.length === 1 ? baselines[0]! : mergeBaselines(...baselines);
      const text = `${JSON.stringify(baseline, null, 2)}\n`;
      if (opts.output === undefined || opts.output === '-') {
        await ctx.out.write(text);
        await ctx.out.end();
      } else {
        await writeFileAtomic(opts.output, text);
        const l = baseline.learned;
        ctx.io.stderr.write(
          `syscan: wrote '${opts.output}': ${baseline.baselineSyscalls.length} syscalls from ${l.events} events; ` +
            `limits ${baseline.maxTotalEventsPerMinute} events/min, ${baseline.maxDeniedEventsPerMinute} denied/min\n`,
        );
      }
    });
}

function parseHeadroom(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1) throw new InvalidArgumentError('must be a number >= 1 (e.g. 1.5)');
  return n;
}
