import { createContextTracker } from '@syscan/core';
import { Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { readBatches, resolveInputs } from '../io/input.js';
import { Progress } from '../io/progress.js';
import {
  deniedErrnosOption,
  type InputOptions,
  parseOptionsOf,
  progressOption,
  sourceOption,
} from '../options.js';

interface ParseCommandOptions extends InputOptions {
  format: 'ndjson' | 'json';
  all?: boolean;
  auditFields?: boolean;
  context?: boolean;
}

/** `syscan parse`: the strace/audit → JSON converter. Streams: one batch per read chunk. */
export function makeParseCommand(ctx: CliContext): Command {
  return new Command('parse')
    .description('print syscall events as NDJSON (default) or a JSON array')
    .argument(
      '[files...]',
      "strace output or audit logs (a directory: every file beneath it); '-' or none reads stdin",
    )
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(['ndjson', 'json']).default('ndjson'),
    )
    .option(
      '-a, --all',
      'also print signals, exits, tracer notices, non-syscall audit events and parse issues',
    )
    .option('--audit-fields', 'keep every decoded audit field (audit.fields)')
    .option('--context', 'attach who did what to what: process, paths, peer, local, host (default)')
    .option('--no-context', 'print the records as read, without context')
    .addOption(sourceOption())
    .addOption(deniedErrnosOption())
    .addOption(progressOption())
    .addHelpText(
      'after',
      '\nExamples:\n  strace -f -o t.log ls && syscan parse t.log | jq .syscall\n  syscan parse --all --format json /var/log/audit/audit.log > events.json',
    )
    .action(async (files: string[], opts: ParseCommandOptions) => {
      const inputs = await resolveInputs(files);
      const progress = new Progress(ctx.io.stderr, opts.progress);
      const parseOptions = parseOptionsOf(opts, opts.auditFields ? { auditFields: true } : {});
      const json = opts.format === 'json';
      const all = opts.all === true;
      const out = ctx.out;
      let first = true;
      if (json) await out.write('[');
      try {
        for (const input of inputs) {
          // One tracker per input: pids of different traces are different processes.
          const tracker = opts.context === false ? undefined : createContextTracker();
          const batches = readBatches(input, ctx.io.stdin, parseOptions, progress);
          for await (const batch of batches) {
            // One string per batch (≤ one read chunk of input), never one per file.
            let text = '';
            for (const record of batch) {
              tracker?.observe(record);
              if (!all && record.kind !== 'syscall') continue;
              if (json) {
                text += first ? '\n' : ',\n';
                first = false;
                text += JSON.stringify(record);
              } else {
                text += `${JSON.stringify(record)}\n`;
              }
            }
            await out.write(text);
            // The reader went away (`| head`): stop reading, quietly.
            if (out.closed) return;
          }
        }
      } finally {
        progress.clear();
      }
      if (json) await out.write(first ? ']\n' : '\n]\n');
      await out.end();
    });
}
