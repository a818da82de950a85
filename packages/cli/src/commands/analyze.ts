import { hostname } from 'node:os';
import {
  type Alert,
  type AnalysisSession,
  createSession,
  type LoadedRule,
  type SessionSummary,
  type Severity,
  toFalcoJson,
  traceIntegrity,
} from '@syscan/core';
import { Command, Option } from 'commander';
import { loadDetectorConfig, type PolicyName } from '../config.js';
import type { CliContext } from '../context.js';
import { EXIT_ANOMALY, EXIT_CLEAN, usageError } from '../errors.js';
import { follow } from '../io/follow.js';
import { type InputSpec, inputParseOptions, readChunks, resolveInputs } from '../io/input.js';
import { sniffNumberedLayout } from '../io/numbered-input.js';
import { Progress } from '../io/progress.js';
import { requireTelemetry } from '../io/telemetry-check.js';
import {
  deniedErrnosOption,
  type InputOptions,
  parseOptionsOf,
  positiveInt,
  progressOption,
  severityOption,
  sourceOption,
} from '../options.js';
import { jsonPieces, ndjsonAlert, ndjsonPieces, ndjsonSuppressed } from '../report/json.js';
import { renderSarif } from '../report/sarif.js';
import { createStyle, printable, type Style, useColor } from '../report/style.js';
import { renderAlertLine, renderSuppressedLine, renderText } from '../report/text.js';
import { loadRuleFiles, printWarnings, type RuleFileOptions, ruleFileOptions } from '../rule-files.js';
import { VERSION } from '../version.js';

type Format = 'text' | 'json' | 'ndjson' | 'sarif' | 'falco';

interface AnalyzeOptions extends InputOptions, RuleFileOptions {
  rules: string[];
  format: Format;
  policy: PolicyName;
  config?: string;
  baseline?: string;
  strict?: boolean;
  failOn?: Severity;
  follow?: boolean;
  interval: number;
  maxAlerts: number;
  ownStream?: boolean;
  allowEmpty?: boolean;
  context: boolean;
}

/**
 * `syscan analyze`: one core session judges the inputs; this command only reads bytes into
 * it and formats what it decided. The exit status is the verdict.
 */
export function makeAnalyzeCommand(ctx: CliContext): Command {
  return ruleFileOptions(new Command('analyze'))
    .description('judge syscall telemetry against a baseline: exit 0 clean, 1 anomalies, 2 error')
    .argument(
      '[files...]',
      "strace output or audit logs (a directory: every file beneath it); '-' or none reads stdin",
    )
    .addOption(
      new Option(
        '-f, --format <format>',
        "report format (sarif: SARIF 2.1.0 for code scanning; falco: one Falco JSON object per alert, falcosidekick's input)",
      )
        .choices(['text', 'json', 'ndjson', 'sarif', 'falco'])
        .default('text'),
    )
    .addOption(
      new Option(
        '--policy <name>',
        "what a normal run does before --config and --baseline: 'everyday' (reviewed: what ordinary programs call) or 'seed' (six syscalls)",
      )
        .choices(['everyday', 'seed'])
        .default('everyday'),
    )
    .option(
      '-c, --config <file>',
      'detector config on top of --policy (JSON: DetectorConfig keys, camelCase or snake_case)',
    )
    .option('-b, --baseline <file>', "a baseline from 'syscan learn' (applied on top of --config)")
    .option(
      '--rules <file>',
      'a Falco rules file loaded after the shipped pack (repeat for more; append/override apply in order)',
      (file: string, files: string[]) => [...files, file],
      [] as string[],
    )
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
    .option('--allow-empty', 'accept an input in which no telemetry is recognised (default: exit 2)')
    .option('--no-context', 'judge the records without tracking processes, paths and peers (faster)')
    .option(
      '--own-stream',
      'the traces were written by strace alone (-o FILE): a sendfile into stderr cannot have put lines in them',
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
        '  mkfifo /tmp/trace.fifo; syscan analyze -b baseline.json /tmp/trace.fifo &',
        '  strace -f -o /tmp/trace.fifo CMD',
        '  syscan analyze --follow --fail-on high /var/log/audit/audit.log',
        '  syscan analyze --rules my-rules.yaml --format falco trace.log  # Falco JSON lines, for falcosidekick',
        '',
        "Give strace its own file or FIFO (-o): never pipe the traced command's own stdout or",
        'stderr into syscan (strace -o /dev/stderr … 2>&1 |), or the command can print fake trace lines.',
      ].join('\n'),
    )
    .action(async (files: string[], opts: AnalyzeOptions) => {
      if (opts.follow && (files.length !== 1 || files[0] === '-')) {
        throw usageError('--follow needs exactly one file (stdin is already followed until it ends)');
      }
      const config = await loadDetectorConfig(opts);
      const rules = await sessionRules(ctx, opts);
      const inputs = await resolveInputs(files);
      if (opts.follow && inputs.length !== 1)
        throw usageError(
          `--follow needs exactly one file; '${files[0]}' is a directory of ${inputs.length} files`,
        );
      // A compressed file is not appended to: there is nothing to follow.
      if (opts.follow && inputs[0]?.gzip === true)
        throw usageError(
          `--follow reads a growing log; '${inputs[0].label}' is gzip-compressed (analyze it without --follow)`,
        );
      const style = createStyle(useColor(ctx.io.stdout, ctx.io.env));
      // Follow mode prints alerts as they are found (text, ndjson); other runs report at the
      // end. Falco's format is one line per alert, always as found: it has no summary to wait for.
      const falco = opts.format === 'falco';
      const live = falco || (opts.follow === true && (opts.format === 'text' || opts.format === 'ndjson'));
      const pending: string[] = [];
      const ndjson = opts.format === 'ndjson';
      const host = hostname();
      const line = (a: Alert): string =>
        falco
          ? `${JSON.stringify(toFalcoJson(a, { hostname: host }))}\n`
          : ndjson
            ? ndjsonAlert(a)
            : renderAlertLine(a, style);
      const session = createSession({
        config,
        // Who did what to what (process, argv, user, paths, peer) on every alert; core's default.
        context: opts.context ? undefined : false,
        ownStream: opts.ownStream === true,
        parse: parseOptionsOf(opts),
        limits: { maxAlerts: opts.maxAlerts },
        // The shipped pack, then --rules files (or only those with --no-default-rules).
        rules,
        // What the trace says syscan could not see (a cut or unreadable line, a CLONE_UNTRACED
        // child) is an alert, never silence. Exits are expected of a strace file that prints
        // them (not -qq): a process of it without one was lost (strace killed, file cut). Not
        // when following: the processes of a live log are still running when it stops.
        checks: [traceIntegrity({ expectExits: opts.follow ? false : 'auto' })],
        onAlert: live ? (a) => pending.push(line(a)) : undefined,
        // Falco has no "suppressed" object: the held-back count goes to stderr at the end.
        onSuppressed:
          live && !falco
            ? (e) => pending.push(ndjson ? ndjsonSuppressed(e) : renderSuppressedLine(e, style))
            : undefined,
      });
      const flush = async (): Promise<void> => {
        if (pending.length === 0) return;
        const text = pending.join('');
        pending.length = 0;
        await ctx.out.write(text);
      };

      if (opts.follow) await followFile(ctx, inputs[0]!.path, session, opts.interval, flush);
      else await readInputs(ctx, inputs, session, opts.progress, flush);
      session.end();
      await flush();

      const summary = session.summary();
      if (!opts.allowEmpty) requireTelemetry(summary.inputs, (name) => numbersHint(inputs, name));
      // JSON reports are written alert by alert (with backpressure), never built as one string.
      for (const piece of render(summary, opts.format, style, live, session)) await ctx.out.write(piece);
      if (falco) warnHeldBack(ctx, summary);
      await ctx.out.end();
      ctx.exitCode = session.failing(opts.failOn) ? EXIT_ANOMALY : EXIT_CLEAN;
    });
}

/** The shipped pack and `--rules` files, loaded once; `false` (no rules) for `--no-default-rules` alone. */
async function sessionRules(ctx: CliContext, opts: AnalyzeOptions): Promise<readonly LoadedRule[] | false> {
  if (!opts.defaultRules && opts.rules.length === 0 && opts.egressAllow === undefined) return false;
  const loaded = await loadRuleFiles(opts.rules, opts);
  printWarnings(ctx, loaded);
  return loaded.rules;
}

/**
 * Falco's format has no object for alerts the budget held back (their severity is unknown):
 * they are said on stderr, and the exit status counts them (`failing` fails closed).
 */
function warnHeldBack(ctx: CliContext, summary: SessionSummary): void {
  const held = summary.suppressed.heldBack + summary.suppressed.verdicts;
  if (held === 0) return;
  ctx.io.stderr.write(
    `syscan: warning: ${held} alert${held === 1 ? '' : 's'} held back by the alert budget (${summary.suppressed.reason ?? 'budget spent'}): not in the Falco output\n`,
  );
}

/** Every input in order, one session: a chunk is one verdict, as one `analyze()` call was in the seed. */
async function readInputs(
  ctx: CliContext,
  inputs: readonly InputSpec[],
  session: AnalysisSession,
  progressEnabled: boolean,
  flush: () => Promise<void>,
): Promise<void> {
  const progress = new Progress(ctx.io.stderr, progressEnabled);
  try {
    for (const input of inputs) {
      session.beginInput(input.label, inputParseOptions(input));
      // Live alerts (--format falco) are written per chunk: what is held is one chunk's worth.
      for await (const chunk of readChunks(input, ctx.io.stdin, progress)) {
        session.write(chunk);
        await flush();
      }
      session.endInput();
      await flush();
    }
  } finally {
    progress.clear();
  }
}

/** For a file of nothing but syscall numbers (ADFA-LD, UNM): the command that reads it. */
function numbersHint(inputs: readonly InputSpec[], name: string): string | undefined {
  const spec = inputs.find((i) => i.label === name);
  const layout = spec === undefined ? undefined : sniffNumberedLayout(spec);
  if (layout === undefined) return undefined;
  return `it is plain syscall numbers (--numbers ${layout}), which carry no process, path or result to judge: score them against a learned sequence model with 'syscan score -b BASELINE ${printable(name, 200)}'`;
}

/** The alert for a followed file cut or rewritten in place: what was written since the last read is unknown. */
function followLoss(
  session: AnalysisSession,
  shown: string,
  reason: 'truncated' | 'rewritten',
  bytesRead: number,
  intervalMs: number,
): Alert {
  return {
    type: 'trace_lost',
    severity: session.config.severity.trace_lost,
    message: `'${shown}' was ${reason === 'truncated' ? 'truncated' : 'rewritten'} in place after ${bytesRead} bytes were read: lines written to it after the last read (up to ${intervalMs} ms before) may be lost (rotation by rename loses nothing; auditd never truncates its log)`,
    count: 1,
    details: {
      check: 'follow',
      reason: reason === 'truncated' ? 'input_truncated' : 'input_rewritten',
      bytesRead,
    },
  };
}

/** Reads `path` until SIGINT/SIGTERM, starting the input over (new parser) after rotation or truncation. */
async function followFile(
  ctx: CliContext,
  path: string,
  session: AnalysisSession,
  intervalMs: number,
  flush: () => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  ctx.io.signals.once('SIGINT', stop);
  ctx.io.signals.once('SIGTERM', stop);
  const shown = printable(path);
  session.beginInput(path);
  try {
    await follow({
      path,
      intervalMs,
      signal: controller.signal,
      onChunk: async (chunk) => {
        session.write(chunk);
        await flush();
        if (ctx.out.closed) controller.abort();
      },
      onCaughtUp: () => {
        ctx.io.stderr.write(`syscan: following '${shown}' (Ctrl-C stops and prints the summary)\n`);
        // Said now, not only at the end (where it is an error): the wrong file, or the wrong --source.
        const stats = session.parseStats;
        if (stats !== undefined && stats.lines > 0 && stats.syscallEvents + stats.otherRecords === 0)
          ctx.io.stderr.write(
            `syscan: no telemetry recognised in '${shown}' so far (${stats.lines} lines read)\n`,
          );
      },
      onReset: async (reason, bytesRead) => {
        // Rotation by rename loses nothing (the old file is read to its end first). A file cut
        // or rewritten in place may have had lines appended after the last read, and auditd
        // never truncates its log: a wiped trail looks like this.
        if (reason !== 'rotated') session.raise([followLoss(session, shown, reason, bytesRead, intervalMs)]);
        // The same name again: its counters add up, its line numbers start over.
        session.beginInput(path);
        await flush();
        ctx.io.stderr.write(`syscan: '${shown}' was ${reason}; reading it from the start\n`);
      },
    });
    session.endInput();
    await flush();
  } finally {
    ctx.io.signals.off('SIGINT', stop);
    ctx.io.signals.off('SIGTERM', stop);
  }
}

function render(
  summary: SessionSummary,
  format: Format,
  style: Style,
  streamed: boolean,
  session: AnalysisSession,
): Iterable<string> {
  switch (format) {
    case 'json':
      return jsonPieces(summary);
    case 'ndjson':
      return ndjsonPieces(summary, streamed);
    case 'falco':
      return []; // every alert was written as it was found
    case 'sarif':
      return [
        renderSarif(summary, {
          version: VERSION,
          severity: session.config.severity,
          cwd: process.cwd(),
        }),
      ];
    default:
      return [renderText(summary, style)];
  }
}
