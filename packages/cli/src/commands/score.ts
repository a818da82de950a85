import {
  createContextTracker,
  createSequenceScorer,
  LoadedSequenceModel,
  type ProcessSequenceScore,
  type SequenceModel,
} from '@syscan/core';
import { Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { EXIT_ANOMALY, EXIT_CLEAN, EXIT_ERROR, inputError } from '../errors.js';
import { resolveInputs } from '../io/input.js';
import { readJsonObject } from '../io/json-file.js';
import {
  type NumbersOptions,
  numbersArchOption,
  numbersFor,
  numbersOption,
  readInputBatches,
} from '../io/numbered-input.js';
import { Progress } from '../io/progress.js';
import {
  deniedErrnosOption,
  type InputOptions,
  parseOptionsOf,
  parseRate,
  progressOption,
  sourceOption,
} from '../options.js';

interface ScoreOptions extends InputOptions, NumbersOptions {
  context: boolean;
  baseline: string;
  format: 'ndjson' | 'json';
  falseAlarmRate?: number;
  program: string;
  explain?: boolean;
}

/** JSON has no infinity: a process of a program the model never learned scores this. */
export const UNKNOWN_PROGRAM_SCORE = 1e9;

interface FileScore {
  file: string;
  /** The most anomalous process's score; null when the file had no call to score. */
  score: number | null;
  threshold: number | null;
  overThreshold: boolean;
  processes: Array<{
    pid: number;
    program: string;
    score: number;
    calls: number;
    overThreshold: boolean;
    explanation?: unknown;
  }>;
  /** Lines that looked like telemetry but could not be read (they were not scored). */
  unreadLines?: number;
  /**
   * Processes the scorer had to cut in two: pushed out of the 4096 it scores at once while still
   * running, they called again, and each part is listed as a process of its own.
   */
  splitProcesses?: number;
  error?: string;
}

/**
 * `syscan score`: how unlike the learned normal processes each input's processes are, one
 * JSON line per input (`file`, `score` = its most anomalous process's, `processes`), for
 * people and for evaluating a model on a labelled set. Exit 1 when a process is over its
 * calibrated threshold, 2 when an input had nothing to score.
 */
export function makeScoreCommand(ctx: CliContext): Command {
  return new Command('score')
    .description('score traces against the sequence model of a baseline: one JSON line per file')
    .argument(
      '[files...]',
      "strace output or audit logs (a directory: every file beneath it); '-' or none reads stdin",
    )
    .requiredOption('-b, --baseline <file>', "a baseline from 'syscan learn' (its sequenceModel)")
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(['ndjson', 'json']).default('ndjson'),
    )
    .option(
      '--false-alarm-rate <rate>',
      "share of normal processes over the threshold (default: the model's, 0.01)",
      parseRate,
    )
    .option('--program <name>', 'program name for calls whose process is unknown', 'default')
    .option('--explain', 'add the explanation of every process over its threshold')
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
      [
        '',
        'Examples:',
        '  syscan learn normal/*.strace -o baseline.json',
        '  syscan score --baseline baseline.json suspect.strace',
        '  syscan score -b baseline.json --explain traces/*.log | jq -c "{file, score}"',
        '',
        'Bare calls (`open() = 3`, `PID name() = 0` lines) are read as strace lines without arguments;',
        'plain call numbers with --numbers (UNM: pid-call, ADFA-LD: calls), which a file of nothing but',
        'numbers gets without asking.',
        '',
        "Scores are decades of rarity among normal processes (2: rarer than 99 % of them). A file's",
        "score and threshold are its most anomalous process's; it is over threshold when any of its",
        "processes is over its own program's. A program the model never learned scores 1e9.",
        'What could not be scored as it ran is counted on the line: `unreadLines` (lines that could',
        'not be read) and `splitProcesses` (processes pushed out of the 4096 scored at once while',
        'still running, then listed in two parts).',
      ].join('\n'),
    )
    .action(async (files: string[], opts: ScoreOptions) => {
      const model = await loadModel(opts.baseline);
      const inputs = await resolveInputs(files);
      const parseOptions = parseOptionsOf(opts);
      const progress = new Progress(ctx.io.stderr, opts.progress);
      const results: FileScore[] = [];
      let status = EXIT_CLEAN;
      try {
        for (const input of inputs) {
          const scorer = createSequenceScorer(model, {
            falseAlarmRate: opts.falseAlarmRate,
            program: opts.program,
          });
          const ended: ProcessSequenceScore[] = [];
          let unread = 0;
          // One tracker per input (pids of different traces are different processes): it
          // names each process's program (exe, comm), as `learn` did.
          const numbers = numbersFor(input, opts);
          const naming = numbers.numbers === undefined ? undefined : numberNamingProblem(model, opts.arch);
          if (naming !== undefined) throw inputError(`'${input.label}' is syscall numbers, but ${naming}`);
          const tracker = opts.context && numbers.numbers === undefined ? createContextTracker() : undefined;
          const stats = readInputBatches(input, ctx.io.stdin, numbers, parseOptions, progress);
          for await (const batch of stats) {
            for (const record of batch) {
              tracker?.observe(record);
              if (record.kind === 'syscall') {
                scorer.observe(record);
                // A process pushed out past the scorer's cap waits in it, which keeps only so
                // many results: taken at once, none is dropped from the file's line.
                if (scorer.endedCount > 0) ended.push(...scorer.takeEnded());
              } else if (record.kind === 'exit' && record.pid !== undefined) {
                const done = scorer.endProcess(record.pid);
                if (done !== undefined) ended.push(done);
              } else if (record.kind === 'issue') unread++;
            }
          }
          ended.push(...scorer.end());
          const result = fileScore(input.label, ended, opts.explain === true);
          if (result.score === null) {
            result.error = `no syscall events to score (${
              unread > 0
                ? `${unread} unreadable line${unread === 1 ? '' : 's'}${numbers.numbers === undefined ? '' : ': a number out of range or not a whole number spoils its line'}`
                : numbers.numbers === undefined
                  ? 'is it strace or audit output?'
                  : `is it --numbers ${numbers.numbers}?`
            })`;
          }
          if (unread > 0) result.unreadLines = unread;
          if (scorer.splitCount > 0) result.splitProcesses = scorer.splitCount;
          if (result.score === null) {
            status = EXIT_ERROR;
            ctx.io.stderr.write(`syscan: '${input.label}': ${result.error}\n`);
          } else if (result.overThreshold && status === EXIT_CLEAN) status = EXIT_ANOMALY;
          if (opts.format === 'ndjson') await ctx.out.write(`${JSON.stringify(result)}\n`);
          else results.push(result);
          if (ctx.out.closed) break;
        }
      } finally {
        progress.clear();
      }
      if (opts.format === 'json') await ctx.out.write(`${JSON.stringify(results, null, 2)}\n`);
      await ctx.out.end();
      ctx.exitCode = status;
    });
}

/**
 * What is wrong when numbers are named one way and the model learned them the other (`nr<N>`
 * without --arch; syscall names with it, or from strace and audit): they share no call, so
 * every process would score as a program doing only calls never seen.
 */
function numberNamingProblem(model: LoadedSequenceModel, arch: string | undefined): string | undefined {
  let numbered = 0;
  let named = 0;
  for (const program of model.programs.values())
    for (const name of program.vocabulary.names) {
      if (/^nr\d+$/.test(name)) numbered++;
      else named++;
    }
  if (arch !== undefined && numbered > 0 && named === 0)
    return `the baseline's sequence model learned numbers without --arch (its calls are nr<N>): score without --arch, or learn again with --arch ${arch}`;
  if (arch === undefined && named > 0 && numbered === 0)
    return "the baseline's sequence model names its calls (learned from strace or audit output, or with --arch): pass the --arch the numbers are from (e.g. --arch x86_64)";
  return undefined;
}

async function loadModel(path: string): Promise<LoadedSequenceModel> {
  const baseline = await readJsonObject(path, 'baseline');
  const stored = baseline.sequenceModel;
  if (stored === undefined) {
    throw inputError(
      `baseline '${path}' has no sequenceModel (learn it again with this syscan: 'syscan learn … -o ${path}')`,
    );
  }
  try {
    return new LoadedSequenceModel(stored as SequenceModel);
  } catch (error) {
    throw inputError(`baseline '${path}': ${(error as Error).message}`);
  }
}

function fileScore(file: string, processes: ProcessSequenceScore[], explain: boolean): FileScore {
  const finite = (s: number): number =>
    Number.isFinite(s) ? Math.round(s * 1e4) / 1e4 : UNKNOWN_PROGRAM_SCORE;
  let worst: ProcessSequenceScore | undefined;
  for (const p of processes) if (worst === undefined || p.score > worst.score) worst = p;
  const result: FileScore = {
    file,
    score: worst === undefined ? null : finite(worst.score),
    // A program the model never learned has no threshold (its processes are over it anyway).
    threshold: worst === undefined || !Number.isFinite(worst.threshold) ? null : finite(worst.threshold),
    overThreshold: processes.some((p) => p.overThreshold),
    processes: processes.map((p) => {
      const out: FileScore['processes'][number] = {
        pid: p.pid,
        program: p.program,
        score: finite(p.score),
        calls: p.calls,
        overThreshold: p.overThreshold,
      };
      if (explain && p.explanation !== undefined) out.explanation = p.explanation;
      return out;
    }),
  };
  return result;
}
