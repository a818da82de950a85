import {
  type Baseline,
  BaselineLearner,
  createContextTracker,
  mergeBaselines,
  SequenceLearner,
  type SyscallEvent,
} from '@syscan/core';
import { Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.js';
import { inputError } from '../errors.js';
import { watchFilteredInput } from '../io/filtered-input.js';
import { resolveInputs } from '../io/input.js';
import { writeFileAtomic } from '../io/json-file.js';
import {
  type NumbersOptions,
  numbersArchOption,
  numbersFor,
  numbersOption,
  readInputBatches,
} from '../io/numbered-input.js';
import { refuseProgramOutput } from '../io/own-output.js';
import { Progress } from '../io/progress.js';
import {
  deniedErrnosOption,
  type InputOptions,
  parseChannelWeights,
  parseOptionsOf,
  parseRate,
  progressOption,
  sourceOption,
} from '../options.js';
import { learnReport, sequenceFacts } from './learn-report.js';

interface LearnOptions extends InputOptions, NumbersOptions {
  context: boolean;
  output?: string;
  headroom: number;
  sequence: boolean;
  program: string;
  falseAlarmRate?: number;
  channelWeights?: ReturnType<typeof parseChannelWeights>;
}

/**
 * `syscan learn`: a baseline from known-good runs. Each input is learned on its own (its
 * own clock: traces of different days must not share a rate window) and the baselines are
 * merged: the union of syscalls, the highest of each limit, per program (exe, else comm,
 * named by the context tracker) the union of its syscalls and denials. The sequence model
 * learns from every input into one model (per program; each input's pids are their own
 * processes) and is stored under `sequenceModel`. What was learned, and from how much, goes
 * to stderr and into `learned`.
 */
export function makeLearnCommand(ctx: CliContext): Command {
  return new Command('learn')
    .description('learn a baseline (syscalls seen, rate limits with headroom) from known-good traces')
    .argument(
      '[files...]',
      "strace output or audit logs of normal runs (a directory: every file beneath it); '-' or none reads stdin",
    )
    .option('-o, --output <file>', 'write the baseline here (default: stdout)')
    .option('--headroom <factor>', 'rate limits = busiest minute seen × factor (>= 1)', parseHeadroom, 1.5)
    .option('--no-sequence', 'do not learn the sequence model (sequenceModel key)')
    .option('--program <name>', 'sequence model: program name for calls whose process is unknown', 'default')
    .option(
      '--false-alarm-rate <rate>',
      'sequence model: share of normal processes its threshold lets through by default',
      parseRate,
      0.01,
    )
    .option(
      '--channel-weights <list>',
      'sequence model: weights of its channels, NAME=WEIGHT,… (e.g. meanCost=1,setDifference=0; 0 leaves one out)',
      parseChannelWeights,
    )
    .option(
      '--no-context',
      'do not follow processes through the trace (execve, clone): every call is the --program program',
    )
    .addOption(numbersOption())
    .addOption(numbersArchOption())
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
      const filtered = watchFilteredInput();
      const sequences = opts.sequence
        ? new SequenceLearner({
            program: opts.program,
            falseAlarmRate: opts.falseAlarmRate,
            weights: opts.channelWeights,
          })
        : undefined;
      try {
        for (const input of inputs) {
          const learner = new BaselineLearner();
          // One tracker per input: it names each process's program (exe, comm) for the
          // per-program baseline and the sequence model.
          const numbers = numbersFor(input, opts);
          const tracker = opts.context && numbers.numbers === undefined ? createContextTracker() : undefined;
          const ownOutput = refuseProgramOutput(input.label, 'the baseline');
          filtered.beginInput(input.label);
          for await (const batch of readInputBatches(input, ctx.io.stdin, numbers, parseOptions, progress)) {
            events.length = 0;
            for (const record of batch) {
              ownOutput(record);
              filtered.record(record);
              tracker?.observe(record);
              if (record.kind === 'syscall') {
                events.push(record);
                sequences?.observe(record);
              } else if (record.kind === 'exit' && record.pid !== undefined)
                sequences?.endProcess(record.pid);
            }
            if (events.length > 0) learner.observe(events);
          }
          sequences?.endTrace();
          if (learner.events > 0) baselines.push(learner.toBaseline({ headroom: opts.headroom }));
        }
      } finally {
        progress.clear();
      }
      if (baselines.length === 0) {
        const shown = inputs.slice(0, 3).map((i) => `'${i.label}'`);
        if (inputs.length > 3) shown.push(`${inputs.length - 3} more`);
        const names = shown.join(', ');
        throw inputError(`no syscall events in ${names}: nothing to learn (is it strace or audit output?)`);
      }
      const merged = baselines.length === 1 ? baselines[0]! : mergeBaselines(...baselines);
      const sequenceModel = sequences?.toModel();
      merged.learned.inputs = inputs.length;
      if (sequenceModel !== undefined) merged.learned.sequence = sequenceFacts(sequenceModel);
      const baseline = sequenceModel === undefined ? merged : { ...merged, sequenceModel };
      const text = `${JSON.stringify(baseline, null, 2)}\n`;
      if (opts.output === undefined || opts.output === '-') {
        await ctx.out.write(text);
        await ctx.out.end();
      } else {
        await writeFileAtomic(opts.output, text);
      }
      const wrote = opts.output === undefined || opts.output === '-' ? undefined : opts.output;
      ctx.io.stderr.write(`${learnReport(baseline, wrote).join('\n')}\n`);
      const split = sequences?.splitProcesses ?? 0;
      if (split > 0)
        ctx.io.stderr.write(
          `syscan: warning: the sequence model learned ${split} process(es) in two parts: more ran at once than it follows (${sequences?.maxOpenProcesses.toLocaleString('en-US').replace(/,/g, ' ')}), so the oldest was ended while still running and its later calls learned as another run; learn from traces of fewer processes at once\n`,
        );
      const leftOut = filtered.warning(
        'the baseline knows only the calls the filter kept, and later runs will alert on the rest',
      );
      if (leftOut !== undefined) ctx.io.stderr.write(`syscan: warning: ${leftOut}\n`);
    });
}

function parseHeadroom(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1) throw new InvalidArgumentError('must be a number >= 1 (e.g. 1.5)');
  return n;
}
