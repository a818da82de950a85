import { createParser, type ParseOptions, type Severity, SyscallAnomalyDetector } from '@syscan/core';
import { Command, Option } from 'commander';
import { loadDetectorConfig } from '../config.js';
import type { CliContext } from '../context.js';
import { EXIT_ANOMALY, EXIT_CLEAN, usageError } from '../errors.js';
import { follow } from '../io/follow.js';
import { readBatches, resolveInputs } from '../io/input.js';
import { Progress } from '../io/progress.js';
import {
  deniedErrnosOption,
  type InputOptions,
  parseOptionsOf,
  positiveInt,
  progressOption,
  severityOption,
  sourceOption,
} from '../options.js';
import { type AlertEntry, Analysis, type SuppressedEntry } from '../report/analysis.js';
import { createStyle, printable, type Style, useColor } from '../report/style.js';
import { renderAlertLine, renderText } from '../report/text.js';

type Format = 'text' | 'json' | 'ndjson';

interface AnalyzeOptions extends InputOptions {
  format: Format;
  config?: string;
  baseline?: string;
  strict?: boolean;
  failOn?: Severity;
  follow?: boolean;
  interval: number;
  maxAlerts: number;
}

/** `syscan analyze`: judge traces against a baseline; the exit status is the verdict. */
export function makeAnalyzeCommand(ctx: CliContext): Command {
  return new Command('analyze')
    .description('judge syscall telemetry against a baseline: exit 0 clean, 1 anomalies, 2 error')
    .argument('[files...]', "strace output or audit logs; '-' or none reads stdin")
    .addOption(
      new Option('-f, --format <format>', 'report format')
        .choices(['text', 'json', 'ndjson'])
        .default('text'),
    )
    .option('-c, --config <file>', 'detector config (JSON: DetectorConfig keys)')
    .option('-b, --baseline <file>', "a baseline from 'syscan learn' (applied on top of --config)")
    .option('--strict', 'strict mode: keep repeated alerts')
    .addOption(
      severityOption(
        '--fail-on <severity>',
        'exit 1 only for an alert at or above this severity (default: any)',
      ),
    )
    .option('--follow', 'keep reading a growing file (audit.log) across rotation until SIGINT/SIGTERM')
    .option('--interval <ms>', 'poll period of --follow', positiveInt('--interval'), 500)
    .option(
      '--max-alerts <n>',
      'alert objects kept in the report (the rest are counted)',
      positiveInt('--max-alerts'),
      1000,
    )
    .addOption(sourceOption())
    .addOption(deniedErrnosOption())
    .addOption(progressOption())
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  syscan learn good-run.strace -o baseline.json',
        '  syscan analyze --baseline baseline.json new-run.strace',
        '  strace -f -o /dev/stderr CMD 2>&1 >/dev/null | syscan analyze -b baseline.json --format ndjson',
        '  syscan analyze --follow --fail-on high /var/log/audit/audit.log',
      ].join('\n'),
    )
    .action(async (files: string[], opts: AnalyzeOptions) => {
      if (opts.follow && (files.length !== 1 || files[0] === '-')) {
        throw usageError('--follow needs exactly one file (stdin is already followed until it ends)');
      }
      const config = await loadDetectorConfig(opts);
      const inputs = await resolveInputs(files);
      const detector = new SyscallAnomalyDetector(config);
      const style = createStyle(useColor(ctx.io.stdout, ctx.io.env));
      // Follow mode prints alerts as they are found; a whole-file run reports at the end.
      const pending: string[] = [];
      const live = opts.follow === true && opts.format !== 'json';
      const analysis = new Analysis(detector, {
        maxAlerts: opts.maxAlerts,
        onAlert: live ? (alert) => pending.push(formatAlert(alert, opts.format, style)) : undefined,
        onSuppressed: live ? (entry) => pending.push(formatSuppressed(entry, opts.format, style)) : undefined,
      });
      const parseOptions = parseOptionsOf(opts);
      const flush = async (): Promise<void> => {
        if (pending.length === 0) return;
        const text = pending.join('');
        pending.length = 0;
        await ctx.out.write(text);
      };

      if (opts.follow) {
        await followFile(ctx, inputs[0]!.path, analysis, parseOptions, opts.interval, flush);
      } else {
        const progress = new Progress(ctx.io.stderr, opts.progress);
        try {
          for (const input of inputs) {
            const file = analysis.beginFile(input.label);
            const batches = readBatches(input, ctx.io.stdin, parseOptions, progress);
            let step = await batches.next();
            while (!step.done) {
              analysis.feed(step.value, file);
              step = await batches.next();
            }
            analysis.endFile(file, step.value);
          }
        } finally {
          progress.clear();
        }
      }

      await flush();
      await ctx.out.write(renderReport(analysis, opts.format, style, live));
      await ctx.out.end();
      ctx.exitCode = analysis.failing(opts.failOn) ? EXIT_ANOMALY : EXIT_CLEAN;
    });
}

/** Reads `path` until SIGINT/SIGTERM, starting over (new parser) after rotation or truncation. */
async function followFile(
  ctx: CliContext,
  path: string,
  analysis: Analysis,
  parseOptions: ParseOptions,
  intervalMs: number,
  flush: () => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  ctx.io.signals.once('SIGINT', stop);
  ctx.io.signals.once('SIGTERM', stop);
  const file = analysis.beginFile(path);
  let parser = createParser(parseOptions);
  const endParser = async (): Promise<void> => {
    analysis.feed(parser.end(), file);
    analysis.endFile(file, parser.stats);
    await flush();
  };
  try {
    await follow({
      path,
      intervalMs,
      signal: controller.signal,
      onChunk: async (chunk) => {
        analysis.feed(parser.push(chunk), file);
        await flush();
        if (ctx.out.closed) controller.abort();
      },
      onCaughtUp: () => {
        ctx.io.stderr.write(`syscan: following '${printable(path)}' (Ctrl-C stops and prints the summary)\n`);
      },
      onReset: async (reason) => {
        await endParser();
        parser = createParser(parseOptions);
        ctx.io.stderr.write(`syscan: '${printable(path)}' was ${reason}; reading it from the start\n`);
      },
    });
    await endParser();
  } finally {
    ctx.io.signals.off('SIGINT', stop);
    ctx.io.signals.off('SIGTERM', stop);
  }
}

function formatAlert(alert: AlertEntry, format: Format, style: Style): string {
  if (format === 'ndjson') return `${JSON.stringify({ kind: 'alert', ...alert })}\n`;
  return renderAlertLine(alert, style);
}

function formatSuppressed(entry: SuppressedEntry, format: Format, style: Style): string {
  if (format === 'ndjson') return `${JSON.stringify({ kind: 'suppressed', ...entry })}\n`;
  return `${style.yellow('HELD')}     ${entry.heldBack} alert(s) held back: ${printable(entry.reason)}\n`;
}

function renderReport(analysis: Analysis, format: Format, style: Style, streamed: boolean): string {
  switch (format) {
    case 'json': {
      const { verdict, events, ...rest } = analysis.summary();
      return `${JSON.stringify({ verdict, events, alerts: analysis.alerts, ...rest }, null, 2)}\n`;
    }
    case 'ndjson': {
      // Whole-file mode: every kept alert, then the summary. (Follow mode already streamed them.)
      const lines = streamed ? [] : analysis.alerts.map((a) => JSON.stringify({ kind: 'alert', ...a }));
      return `${lines.length > 0 ? `${lines.join('\n')}\n` : ''}${JSON.stringify({ kind: 'summary', ...analysis.summary() })}\n`;
    }
    default:
      return renderText(analysis, style);
  }
}
