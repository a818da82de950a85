import type { AlertEntry, AlertGroup, Analysis, SuppressedEntry } from './analysis.js';
import { severityRank } from './severity.js';
import { num, printable, type Style } from './style.js';

const MAX_GROUPS_SHOWN = 40;
const MAX_COMPACT_SHOWN = 200;
/** More plain unknown-syscall kinds than this are listed compactly. */
const COMPACT_AFTER = 5;
const HIGH = severityRank('high');
const TOP_SYSCALLS = 12;

/**
 * The human report: verdict first, then what to look at (alerts, most severe first, each
 * with where it happened and the line that caused it), then context (denials, top
 * syscalls, inputs). Everything from the input is escaped.
 */
export function renderText(analysis: Analysis, style: Style): string {
  const out: string[] = [];
  const verdict = analysis.verdict;
  const files = analysis.files.length;
  const scope = `${num(analysis.events)} syscall event${analysis.events === 1 ? '' : 's'}${files > 1 ? ` in ${files} inputs` : ''}`;
  if (verdict === 'clean') {
    out.push(`${style.bold(style.green('CLEAN'))}  ${scope}, no alerts`);
  } else if (verdict === 'alert') {
    const bySeverity = (['critical', 'high', 'medium', 'low', 'info'] as const)
      .filter((s) => analysis.severities[s] > 0)
      .map((s) => style.severity(s, `${s} ${num(analysis.severities[s])}`))
      .join(' · ');
    out.push(
      `${style.bold(style.red('ALERT'))}  ${num(analysis.alertsTotal)} alert${analysis.alertsTotal === 1 ? '' : 's'} in ${scope} (${bySeverity})`,
    );
  } else {
    out.push(
      `${style.bold(style.yellow('SUPPRESSED'))}  ${num(analysis.heldBack)} alert(s) held back by the alert budget in ${scope}`,
    );
  }

  const groups = [...analysis.groups.values()].sort(
    (a, b) => severityRank(b.severity) - severityRank(a.severity),
  );
  if (groups.length > 0) {
    // Many new-but-harmless syscalls (a new code path) would bury the one denial: past a
    // few, list them compactly, one name each, after the alerts that need reading in full.
    const plainUnknown = groups.filter(
      (g) => g.type === 'unknown_syscall' && severityRank(g.severity) < HIGH,
    );
    const compact = plainUnknown.length > COMPACT_AFTER ? new Set(plainUnknown) : new Set<AlertGroup>();
    const full = groups.filter((g) => !compact.has(g));
    out.push(
      '',
      style.bold('Alerts') + style.dim(' (most severe first; one entry per kind, with its first occurrence)'),
    );
    for (const group of full.slice(0, MAX_GROUPS_SHOWN)) out.push(...renderGroup(group, style));
    let hidden = Math.max(0, full.length - MAX_GROUPS_SHOWN) + analysis.groupsDropped;
    if (compact.size > 0) {
      const list = [...compact];
      const severity = list[0]!.severity;
      out.push(
        `  ${style.severity(severity, severity.toUpperCase().padEnd(8))}  ${style.bold(`${num(list.length)} syscalls not in baseline`)}${style.dim(' (name ×events, :first line)')}`,
      );
      const shown = list.slice(0, MAX_COMPACT_SHOWN);
      hidden += list.length - shown.length;
      out.push(
        ...wrap(
          shown.map(
            (g) =>
              `${printable(g.syscall ?? '?', 32)}${g.events > 1 ? ` ×${num(g.events)}` : ''} ${style.dim(`:${g.first.line ?? '?'}`)}`,
          ),
          12,
        ),
      );
    }
    if (hidden > 0) out.push(style.dim(`  … ${num(hidden)} more kinds of alert (--format json lists them)`));
  }

  if (analysis.heldBack > 0 || analysis.suppressedVerdicts > 0) {
    const last = analysis.lastSuppressed as SuppressedEntry;
    out.push(
      '',
      `${style.bold('Held back')}  ${num(analysis.heldBack)} alert(s) in ${num(analysis.suppressedVerdicts)} batch(es): ${printable(last.reason)}`,
      style.dim('  set "maxAlertsPerMinute": 0 (no limit) in a --config file to see every alert'),
    );
  }

  if (analysis.deniedCount > 0) {
    out.push('', `${style.bold('Denials')}  ${num(analysis.deniedCount)} denied syscall event(s)`);
    const rows = [...analysis.deniedBySyscall].sort((a, b) => b[1].count - a[1].count).slice(0, TOP_SYSCALLS);
    for (const [name, d] of rows) {
      const errnos = [...d.errnos]
        .sort((a, b) => b[1] - a[1])
        .map(([e, n]) => `${printable(e, 40)} ${num(n)}`)
        .join(', ');
      out.push(
        `  ${style.red(printable(name, 32).padEnd(18))} ${num(d.count).padStart(7)}  ${style.dim(errnos)}`,
      );
    }
    const first = analysis.deniedSamples[0];
    if (first)
      out.push(
        style.dim(`  first: ${where(first.file, first.line, first.pid)}  ${printable(first.raw, 160)}`),
      );
  }

  const counts = analysis.syscallCounts();
  if (counts.length > 0) {
    out.push('', `${style.bold('Top syscalls')}  ${style.dim(`${num(counts.length)} distinct`)}`);
    const top = counts.slice(0, TOP_SYSCALLS);
    const width = Math.max(...top.map(([name]) => Math.min(name.length, 24)));
    for (let i = 0; i < top.length; i += 3) {
      out.push(
        `  ${top
          .slice(i, i + 3)
          .map(([name, n]) => `${printable(name, 24).padEnd(width)} ${num(n).padStart(9)}`)
          .join('    ')}`,
      );
    }
  }

  out.push('', style.bold('Inputs'));
  for (const f of analysis.files) {
    const issues = f.parseIssues > 0 ? style.yellow(`${num(f.parseIssues)} unreadable`) : '0 unreadable';
    out.push(`  ${printable(f.path, 60)}  ${num(f.lines)} lines, ${num(f.events)} events, ${issues}`);
  }
  if (analysis.issuesCount > 0) {
    const codes = [...analysis.issuesByCode].map(([code, n]) => `${code} ${num(n)}`).join(', ');
    const first = analysis.issueSamples[0];
    out.push(style.dim(`  parse issues: ${codes}`));
    if (first)
      out.push(style.dim(`  first: ${where(first.file, first.line)}  ${printable(first.message, 120)}`));
  }
  return `${out.join('\n')}\n`;
}

function renderGroup(group: AlertGroup, style: Style): string[] {
  const a = group.first;
  const label = style.severity(group.severity, group.severity.toUpperCase().padEnd(8));
  const times = group.alerts > 1 ? style.dim(`  ×${num(group.alerts)}`) : '';
  const lines = [`  ${label}  ${style.bold(printable(a.message, 160))}${times}`];
  const facts = [where(a.file, a.line, a.pid)];
  if (a.count > 1) facts.push(`count ${num(a.count)}`);
  if (a.limit !== undefined) facts.push(`limit ${num(a.limit)}/min`);
  if (group.alerts > 1 && group.last.line !== undefined) facts.push(`last at line ${num(group.last.line)}`);
  lines.push(`            ${style.dim(facts.join(' · '))}`);
  if (a.sample) lines.push(`            ${style.dim('>')} ${printable(a.sample, 160)}`);
  return lines;
}

function where(file: string, line?: number, pid?: number): string {
  let s = printable(file, 60);
  if (line !== undefined) s += `:${line}`;
  if (pid !== undefined) s += ` pid ${pid}`;
  return s;
}

/** One alert as a line, for follow mode (printed as it happens). */
export function renderAlertLine(alert: AlertEntry, style: Style): string {
  const label = style.severity(alert.severity, alert.severity.toUpperCase().padEnd(8));
  const sample = alert.sample ? `  ${style.dim('>')} ${printable(alert.sample, 160)}` : '';
  return `${label} ${printable(alert.message, 160)}  ${style.dim(where(alert.file, alert.line, alert.pid))}${sample}\n`;
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
