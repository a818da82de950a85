import type { AlertGroup, SessionAlert, SessionSummary, SuppressedEntry } from '@syscan/core';
import { severityRank } from '@syscan/core';
import { renderSequenceExplanation, sequenceHeadline } from './sequence-text.js';
import { num, printable, type Style } from './style.js';

const MAX_GROUPS_SHOWN = 40;
const MAX_COMPACT_SHOWN = 200;
/** More plain unknown-syscall kinds than this are listed compactly. */
const COMPACT_AFTER = 5;
const HIGH = severityRank('high');
const TOP_SYSCALLS = 12;
const TARGETS_SHOWN = 5;

/**
 * The human report of a session's summary: verdict first, then what to look at (alert
 * groups, most severe first, each with where it happened, who did it to what, and the
 * line that caused it), then context (denials, top syscalls, inputs). Everything that
 * came from the input, file names included, is escaped.
 */
export function renderText(summary: SessionSummary, style: Style): string {
  const out: string[] = [verdictLine(summary, style)];
  if (summary.groups.length > 0) out.push(...renderGroups(summary, style));
  const { suppressed } = summary;
  if (suppressed.heldBack > 0 || suppressed.verdicts > 0) {
    out.push(
      '',
      `${style.bold('Held back')}  ${num(suppressed.heldBack)} alert(s) in ${num(suppressed.verdicts)} batch(es): ${printable(suppressed.reason ?? '?')}`,
      style.dim('  set "maxAlertsPerMinute": 0 (no limit) in a --config file to see every alert'),
    );
  }
  if (summary.denied.count > 0) out.push(...renderDenials(summary, style));
  out.push(...renderTopSyscalls(summary, style), ...renderInputs(summary, style));
  return `${out.join('\n')}\n`;
}

function verdictLine(summary: SessionSummary, style: Style): string {
  const inputs = summary.inputs.length;
  const scope = `${num(summary.events)} syscall event${summary.events === 1 ? '' : 's'}${inputs > 1 ? ` in ${inputs} inputs` : ''}`;
  if (summary.verdict === 'clean') return `${style.bold(style.green('CLEAN'))}  ${scope}, no alerts`;
  if (summary.verdict === 'suppressed') {
    return `${style.bold(style.yellow('SUPPRESSED'))}  ${num(summary.suppressed.heldBack)} alert(s) held back by the alert budget in ${scope}`;
  }
  const bySeverity = (['critical', 'high', 'medium', 'low', 'info'] as const)
    .filter((s) => summary.severities[s] > 0)
    .map((s) => style.severity(s, `${s} ${num(summary.severities[s])}`))
    .join(' · ');
  const total = summary.alertsTotal;
  return `${style.bold(style.red('ALERT'))}  ${num(total)} alert${total === 1 ? '' : 's'} in ${scope} (${bySeverity})`;
}

function renderGroups(summary: SessionSummary, style: Style): string[] {
  const groups = summary.groups; // core sorts them: most severe first, then first seen
  // Many new-but-harmless syscalls (a new code path) would bury the one denial: past a
  // few, list them compactly, one name each, after the alerts that need reading in full.
  const plainUnknown = groups.filter((g) => g.type === 'unknown_syscall' && severityRank(g.severity) < HIGH);
  const compact = plainUnknown.length > COMPACT_AFTER ? new Set(plainUnknown) : new Set<AlertGroup>();
  const full = groups.filter((g) => !compact.has(g));
  const out = [
    '',
    style.bold('Alerts') + style.dim(' (most severe first; one entry per kind, with its first occurrence)'),
  ];
  for (const group of full.slice(0, MAX_GROUPS_SHOWN)) out.push(...renderGroup(group, style));
  let hidden = Math.max(0, full.length - MAX_GROUPS_SHOWN) + summary.groupsDropped;
  if (compact.size > 0) {
    const list = [...compact];
    const severity = list[0]!.severity;
    out.push(
      `  ${style.severity(severity, severity.toUpperCase().padEnd(8))}  ${style.bold(`${num(list.length)} syscalls not in baseline`)}${style.dim(' (name ×events, :first line)')}`,
    );
    const shown = list.slice(0, MAX_COMPACT_SHOWN);
    hidden += list.length - shown.length;
    const items = shown.map(
      (g) =>
        `${printable(g.syscall ?? '?', 32)}${g.events > 1 ? ` ×${num(g.events)}` : ''} ${style.dim(`:${g.first.line ?? '?'}`)}`,
    );
    out.push(...wrap(items, 12));
    const makers = programsOf(list);
    if (makers !== undefined) out.push(`            ${style.dim(`first made by ${makers}`)}`);
  }
  if (hidden > 0) out.push(style.dim(`  … ${num(hidden)} more kinds of alert (--format json lists them)`));
  return out;
}

function renderGroup(group: AlertGroup, style: Style): string[] {
  const a = group.first;
  const label = style.severity(group.severity, group.severity.toUpperCase().padEnd(8));
  const times = group.alerts > 1 ? style.dim(`  ×${num(group.alerts)}`) : '';
  // A sequence alert's message is its whole explanation on one line: the headline says
  // score and threshold, and the explanation follows on lines of its own.
  const headline = sequenceHeadline(a) ?? printable(a.message, 160);
  const lines = [`  ${label}  ${style.bold(headline)}${times}`];
  const facts = [where(a.input, a.line, a.pid)];
  if (a.rule !== undefined) facts.push(`rule ${printable(a.rule, 60)}`);
  if (a.count > 1) facts.push(`count ${num(a.count)}`);
  if (a.limit !== undefined) facts.push(`limit ${num(a.limit)}/min`);
  if (group.alerts > 1 && group.last.line !== undefined) facts.push(`last at line ${num(group.last.line)}`);
  lines.push(`            ${style.dim(facts.join(' · '))}`);
  const who = actor(a);
  if (who !== undefined) lines.push(`            ${style.dim(`by ${who}`)}`);
  lines.push(...renderSequenceExplanation(a, style));
  if (group.targets.length > 0) {
    const shown = group.targets
      .slice(0, TARGETS_SHOWN)
      .map((t) => `${printable(t.target, 80)}${t.count > 1 ? ` ×${num(t.count)}` : ''}`);
    const unshown = group.targets.length - TARGETS_SHOWN;
    // Past the summary's cap the targets were only counted: say so, never drop them silently.
    const omitted = group.targetsOmitted
      ? ` (and ${num(group.targetsOmitted)} hit(s) on targets not kept)`
      : '';
    const more = (unshown > 0 ? `, … ${unshown} more` : '') + omitted;
    lines.push(`            ${style.dim(`on ${shown.join(', ')}${more}`)}`);
  }
  if (a.sample) lines.push(`            ${style.dim('>')} ${printable(a.sample, 160)}`);
  return lines;
}

/** `curl (/usr/bin/curl) uid 1000`: the process behind an alert, as far as the telemetry tells. */
/** Who first made each of these syscalls: `sh (/usr/bin/sh) for 15, setpriv (/usr/bin/setpriv) for 6`, most first. */
function programsOf(groups: readonly AlertGroup[]): string | undefined {
  const counts = new Map<string, number>();
  for (const g of groups) {
    const p = g.first.process;
    const name = p?.comm ?? p?.exe;
    if (name === undefined) continue;
    const key =
      p?.exe !== undefined && p.exe !== name
        ? `${printable(name, 40)} (${printable(p.exe, 80)})`
        : printable(name, 40);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (counts.size === 0) return undefined;
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, MAX_PROGRAMS_SHOWN).map(([who, n]) => `${who} for ${num(n)}`);
  if (sorted.length > MAX_PROGRAMS_SHOWN)
    shown.push(`${num(sorted.length - MAX_PROGRAMS_SHOWN)} more programs`);
  return shown.join(', ');
}

/** Programs named under a compact list of new syscalls. */
const MAX_PROGRAMS_SHOWN = 6;

function actor(alert: SessionAlert): string | undefined {
  const p = alert.process;
  if (p === undefined) return undefined;
  const parts: string[] = [];
  if (p.comm !== undefined) parts.push(printable(p.comm, 40));
  if (p.exe !== undefined && p.exe !== p.comm) parts.push(`(${printable(p.exe, 80)})`);
  if (p.argv !== undefined && p.argv.length > 1) parts.push(`argv ${argvText(p.argv, p)}`);
  // The names the log's host gave (audit ENRICHED, ausearch -i), beside the numbers; the
  // login user too when it differs (who is behind a sudo or su).
  const name = (n: string | undefined) => (n === undefined ? '' : ` (${printable(n, 32)})`);
  if (p.uid !== undefined) parts.push(`uid ${p.uid}${name(p.user)}`);
  else if (p.user !== undefined) parts.push(`user ${printable(p.user, 32)}`);
  if (p.auid !== undefined && p.auid !== p.uid) parts.push(`auid ${p.auid}${name(p.loginUser)}`);
  else if (p.auid === undefined && p.loginUser !== undefined && p.loginUser !== p.user)
    parts.push(`login ${printable(p.loginUser, 32)}`);
  return parts.length > 0 ? parts.join(' ') : undefined;
}

/**
 * argv as a person reads it: an entry strace cut at `-s` ends in `…` where it was cut (so
 * `/root/.pyenv/versions/3.11.7/bin…` is not taken for a directory); without such marks, a
 * trailing `…` says entries are missing (strace elided them, or a cap was reached).
 */
function argvText(
  argv: readonly string[],
  p: { argvCut?: readonly number[] | undefined; argvTruncated?: boolean | undefined },
): string {
  const cut = new Set(p.argvCut ?? []);
  const text = printable(argv.map((a, i) => (cut.has(i) ? `${a}…` : a)).join(' '), 160);
  return p.argvTruncated && cut.size === 0 && !text.endsWith('…') ? `${text}…` : text;
}

function renderDenials(summary: SessionSummary, style: Style): string[] {
  const denied = summary.denied;
  const out = ['', `${style.bold('Denials')}  ${num(denied.count)} denied syscall event(s)`];
  const rows = Object.entries(denied.bySyscall)
    .sort((a, b) => b[1].count - a[1].count)
    .slice(0, TOP_SYSCALLS);
  for (const [name, d] of rows) {
    const errnos = Object.entries(d.errnos)
      .sort((a, b) => b[1] - a[1])
      .map(([e, n]) => `${printable(e, 40)} ${num(n)}`)
      .join(', ');
    out.push(
      `  ${style.red(printable(name, 32).padEnd(18))} ${num(d.count).padStart(7)}  ${style.dim(errnos)}`,
    );
  }
  const first = denied.samples[0];
  if (first)
    out.push(
      style.dim(`  first: ${where(first.input, first.line, first.pid)}  ${printable(first.raw, 160)}`),
    );
  return out;
}

function renderTopSyscalls(summary: SessionSummary, style: Style): string[] {
  const counts = Object.entries(summary.syscalls); // core sorts them, most frequent first
  if (counts.length === 0) return [];
  const out = ['', `${style.bold('Top syscalls')}  ${style.dim(`${num(counts.length)} distinct`)}`];
  const top = counts.slice(0, TOP_SYSCALLS);
  const width = Math.max(...top.map(([name]) => Math.min(name.length, 24)));
  for (let i = 0; i < top.length; i += 3) {
    const row = top
      .slice(i, i + 3)
      .map(([name, n]) => `${printable(name, 24).padEnd(width)} ${num(n).padStart(9)}`);
    out.push(`  ${row.join('    ')}`);
  }
  return out;
}

function renderInputs(summary: SessionSummary, style: Style): string[] {
  const out = ['', style.bold('Inputs')];
  for (const f of summary.inputs) {
    const issues = f.parseIssues > 0 ? style.yellow(`${num(f.parseIssues)} unreadable`) : '0 unreadable';
    // Lines of neither format are read past: said, so a trace padded with prose is not silently short.
    const other = f.otherLines > 0 ? `, ${num(f.otherLines)} not telemetry` : '';
    out.push(`  ${printable(f.name, 60)}  ${num(f.lines)} lines, ${num(f.events)} events, ${issues}${other}`);
  }
  const issues = summary.parseIssues;
  if (issues.count > 0) {
    const codes = Object.entries(issues.byCode)
      .map(([code, n]) => `${code} ${num(n)}`)
      .join(', ');
    out.push(style.dim(`  parse issues: ${codes}`));
    const first = issues.samples[0];
    if (first)
      out.push(style.dim(`  first: ${where(first.input, first.line)}  ${printable(first.message, 120)}`));
  }
  if (summary.rejectedTimes > 0)
    out.push(style.dim(`  ${num(summary.rejectedTimes)} event time(s) ignored as implausible`));
  return out;
}

function where(input: string | undefined, line?: number, pid?: number): string {
  let s = printable(input ?? '<input>', 60);
  if (line !== undefined) s += `:${line}`;
  if (pid !== undefined) s += ` pid ${pid}`;
  return s;
}

/** One alert as a line, for follow mode (printed as it happens). */
export function renderAlertLine(alert: SessionAlert, style: Style): string {
  const label = style.severity(alert.severity, alert.severity.toUpperCase().padEnd(8));
  const sample = alert.sample ? `  ${style.dim('>')} ${printable(alert.sample, 160)}` : '';
  return `${label} ${printable(alert.message, 160)}  ${style.dim(where(alert.input, alert.line, alert.pid))}${sample}\n`;
}

/** Alerts held back by the budget, as a line, for follow mode. */
export function renderSuppressedLine(entry: SuppressedEntry, style: Style): string {
  return `${style.yellow('HELD')}     ${num(entry.heldBack)} alert(s) held back: ${printable(entry.reason)}\n`;
}

/** Joins items with ', ' into lines of about 100 visible columns, indented. */
function wrap(items: string[], indent: number): string[] {
  const lines: string[] = [];
  let line = '';
  let width = 0;
  for (const item of items) {
    const visible = item.replace(/\x1b\[[0-9;]*m/g, '').length;
    if (width > 0 && width + visible + 2 > 100 - indent) {
      lines.push(`${' '.repeat(indent)}${line},`);
      line = '';
      width = 0;
    }
    line += width > 0 ? `, ${item}` : item;
    width += visible + (width > 0 ? 2 : 0);
  }
  if (line) lines.push(`${' '.repeat(indent)}${line}`);
  return lines;
}
