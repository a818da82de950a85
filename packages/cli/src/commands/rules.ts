import { hostname } from 'node:os';
import {
  type Alert,
  createContextTracker,
  createRuleEvaluator,
  type LoadedRule,
  toFalcoJson,
} from '@syscan/core';
import { Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { EXIT_ANOMALY, usageError } from '../errors.js';
import { readBatches, resolveInputs } from '../io/input.js';
import { Progress } from '../io/progress.js';
import {
  deniedErrnosOption,
  type InputOptions,
  parseOptionsOf,
  progressOption,
  sourceOption,
} from '../options.js';
import { createStyle, printable, useColor } from '../report/style.js';
import { loadRuleFiles, printWarnings, type RuleFileOptions, ruleFileOptions } from '../rule-files.js';

function ruleLine(rule: LoadedRule): string {
  const on = rule.syscalls === undefined ? 'any syscall' : [...rule.syscalls].join(',');
  const state = rule.enabled ? '' : ' (disabled)';
  const entry = rule.decidedBySyscall ? ' [by name]' : '';
  // Names and paths come from rule files: escaped like any other untrusted text on a terminal.
  return `${printable(rule.name, 200)}${state}\t${rule.priority}\t${rule.action}\t${printable(rule.file, 400)}:${rule.line}\t${printable(on, 2000)}${entry}`;
}

/** `syscan rules list`: every loaded rule with its source file. */
function makeListCommand(ctx: CliContext): Command {
  return ruleFileOptions(
    new Command('list')
      .description('list the loaded rules: name, priority, action, source file:line, syscalls')
      .argument('[files...]', 'extra rule files, loaded after the default pack')
      .addOption(
        new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'),
      ),
  ).action(async (files: string[], opts: RuleFileOptions & { format: 'text' | 'json' }) => {
    const loaded = await loadRuleFiles(files, opts);
    printWarnings(ctx, loaded);
    if (opts.format === 'json') {
      const rules = loaded.rules.map((r) => ({
        ...r,
        syscalls: r.syscalls === undefined ? null : [...r.syscalls],
        decidedBySyscall: r.decidedBySyscall ?? null,
      }));
      await ctx.out.write(`${JSON.stringify(rules, null, 2)}\n`);
    } else {
      await ctx.out.write(
        `${['RULE\tPRIORITY\tACTION\tSOURCE\tSYSCALLS', ...loaded.rules.map(ruleLine)].join('\n')}\n`,
      );
    }
    await ctx.out.end();
  });
}

/** `syscan rules validate FILE…`: load and compile, report problems; exit 2 on an error. */
function makeValidateCommand(ctx: CliContext): Command {
  return ruleFileOptions(
    new Command('validate')
      .description('check rule files: YAML, syntax, fields, macros and lists (exit 2 on the first error)')
      .argument('<files...>', 'rule files, loaded after the default pack unless --no-default-rules'),
  ).action(async (files: string[], opts: RuleFileOptions) => {
    const loaded = await loadRuleFiles(files, opts);
    printWarnings(ctx, loaded);
    const mine = loaded.rules.filter((r) => files.includes(r.file)).length;
    const warned = loaded.warnings.length;
    await ctx.out.write(
      `ok: ${files.join(', ')}: ${mine} rule${mine === 1 ? '' : 's'} (${loaded.rules.length} loaded in all), ${warned} warning${warned === 1 ? '' : 's'}\n`,
    );
    await ctx.out.end();
  });
}

interface TestOptions extends RuleFileOptions, InputOptions {
  format: 'text' | 'json' | 'ndjson' | 'falco';
}

/** Rule files before `--`, traces after it (commander keeps no trace of the `--` itself). */
function splitAtDoubleDash(command: Command, operands: string[]): { ruleFiles: string[]; traces: string[] } {
  let root: Command = command;
  while (root.parent) root = root.parent;
  const raw = (root as Command & { rawArgs?: string[] }).rawArgs ?? [];
  const dash = raw.indexOf('--');
  if (dash < 0) throw usageError('usage: syscan rules test [RULES.yaml…] -- TRACE… (trace files after --)');
  const traces = raw.slice(dash + 1);
  if (traces.length === 0) throw usageError("no trace after '--' (give a file, or '-' for stdin)");
  return { ruleFiles: operands.slice(0, operands.length - traces.length), traces };
}

function alertText(alert: Alert, label: string, color: boolean): string {
  const style = createStyle(color);
  const where = `${label}${alert.line === undefined ? '' : `:${alert.line}`}`;
  const head = `${style.severity(alert.severity, `${alert.severity.toUpperCase()}`)} ${style.bold(printable(alert.rule ?? '', 200))} (${String(alert.details?.priority)}, ${alert.action ?? 'alert'}) ${where}`;
  return `${head}\n  ${printable(alert.message, 1000)}\n  ${style.dim(printable(alert.sample ?? '', 400))}\n`;
}

/** `syscan rules test FILE… -- TRACE…`: which rules fire on a trace, with the matching event. */
function makeTestCommand(ctx: CliContext): Command {
  return ruleFileOptions(
    new Command('test')
      .description(
        'run rules over traces: every match with its rule, message and trace line (exit 1 when any fired)',
      )
      .argument(
        '[files...]',
        'rule files, then -- and the traces (strace output or audit logs; a directory: every file beneath it)',
      )
      .addOption(
        new Option('-f, --format <format>', 'output format')
          .choices(['text', 'json', 'ndjson', 'falco'])
          .default('text'),
      )
      .addOption(sourceOption())
      .addOption(deniedErrnosOption())
      .addOption(progressOption())
      .addHelpText(
        'after',
        '\nExamples:\n  syscan rules test my-rules.yaml -- trace.log\n  strace -f -o t.log ./tool && syscan rules test --format falco -- t.log',
      ),
  ).action(async (operands: string[], opts: TestOptions, command: Command) => {
    const { ruleFiles, traces } = splitAtDoubleDash(command, operands);
    const loaded = await loadRuleFiles(ruleFiles, opts);
    printWarnings(ctx, loaded);
    const inputs = await resolveInputs(traces);
    const progress = new Progress(ctx.io.stderr, opts.progress);
    const color = useColor(ctx.io.stdout, ctx.io.env);
    const host = hostname();
    const all: Alert[] = [];
    const fired = new Set<string>();
    let total = 0;
    try {
      for (const input of inputs) {
        // One tracker and one evaluator per trace: pids and written files belong to one run.
        const tracker = createContextTracker();
        const evaluator = createRuleEvaluator(loaded.rules);
        // Audit open flags live in the SYSCALL record's registers: keep the fields rules read them from.
        const batches = readBatches(
          input,
          ctx.io.stdin,
          parseOptionsOf(opts, { auditFields: true }),
          progress,
        );
        for await (const batch of batches) {
          const alerts: Alert[] = [];
          for (const record of batch) {
            tracker.observe(record);
            if (record.kind === 'syscall') evaluator.evaluate(record, tracker, alerts);
          }
          let text = '';
          for (const alert of alerts) {
            total++;
            fired.add(alert.rule ?? '');
            if (opts.format === 'json') all.push(alert);
            else if (opts.format === 'ndjson')
              text += `${JSON.stringify({ trace: input.label, ...alert })}\n`;
            else if (opts.format === 'falco')
              text += `${JSON.stringify(toFalcoJson(alert, { hostname: host }))}\n`;
            else text += alertText(alert, input.label, color);
          }
          if (text !== '') await ctx.out.write(text);
          if (ctx.out.closed) return;
        }
      }
    } finally {
      progress.clear();
    }
    if (opts.format === 'json') await ctx.out.write(`${JSON.stringify(all, null, 2)}\n`);
    ctx.io.stderr.write(
      `syscan: ${total} match${total === 1 ? '' : 'es'} of ${fired.size} rule${fired.size === 1 ? '' : 's'} (${loaded.rules.filter((r) => r.enabled).length} enabled) on ${inputs.length} trace${inputs.length === 1 ? '' : 's'}\n`,
    );
    if (total > 0) ctx.exitCode = EXIT_ANOMALY;
    await ctx.out.end();
  });
}

/** `syscan rules`: list, validate and test Falco-language rule files. */
export function makeRulesCommand(ctx: CliContext): Command {
  const rules = new Command('rules').description('list, validate and test rule files (Falco rule language)');
  for (const make of [makeListCommand, makeValidateCommand, makeTestCommand]) rules.addCommand(make(ctx));
  // The program copies its settings (exitOverride, output) into `rules` after this returns;
  // pass them on to the subcommand that runs.
  rules.hook('preSubcommand', (self, sub) => {
    sub.copyInheritedSettings(self);
  });
  return rules;
}
