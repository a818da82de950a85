import type { DryRunReport, ExecResult } from './types.js';

/** A readable summary of a run, for stderr (the command's own output went to stdout/stderr live). */
export function formatSummary(r: ExecResult, color: boolean): string {
  const paint = (code: string, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const lines: string[] = [];
  const ended = r.signal ? `killed by ${r.signal} (status ${r.status})` : `exit ${r.exitCode}`;
  const distinct = Object.keys(r.syscalls).length;
  const verdict = r.verdict === 'clean' ? paint('32', 'clean') : paint('31;1', `ALERT (${r.alertsTotal})`);
  const isolation = r.isolation.mode === 'none' ? 'not isolated' : `isolated (${r.isolation.tool})`;
  lines.push(
    `syscan-sandbox: ${ended} · ${fmtMs(r.durationMs)} · ${r.events} syscalls (${distinct} distinct, ${r.trace.pids} pids) · ${isolation} · ${verdict}`,
  );
  // Messages of rule alerts quote the command's argv and paths: escaped like the samples.
  if (r.killed)
    lines.push(paint('31;1', `  killed (${r.killed.reason}): ${escapeControls(r.killed.message)}`));
  if (r.dryRun) lines.push(...dryRunLines(r.dryRun, paint));
  for (const a of r.alerts) {
    const times = a.occurrences > 1 ? ` ×${a.occurrences}` : '';
    const where = a.pid !== undefined ? ` [pid ${a.pid}]` : '';
    lines.push(
      `  ${paint(a.severity === 'critical' || a.severity === 'high' ? '31' : '33', a.severity.padEnd(8))} ${escapeControls(a.rule === undefined ? a.type : `rule '${a.rule}'`)}: ${escapeControls(a.message)}${times}${where}`,
    );
    if (a.sample) lines.push(`           ${paint('2', escapeControls(a.sample))}`);
  }
  if (r.alertsDropped > 0) lines.push(`  … ${r.alertsDropped} more alerts not listed`);
  if (r.suppressed) lines.push(`  suppressed: ${r.suppressed.reason} (${r.suppressed.heldBack} held back)`);
  for (const [name, out] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    if (out.truncated) lines.push(`  ${name}: ${out.bytes} bytes, captured output truncated`);
  }
  if (r.trace.issues > 0) lines.push(`  ${r.trace.issues} trace lines not understood`);
  return `${lines.join('\n')}\n`;
}

/** Trace samples are the command's bytes: no raw escapes or bidi controls reach the terminal. */
function escapeControls(s: string): string {
  return s.replace(
    /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Monitor mode: what enforcement would have done, said as such. */
function dryRunLines(d: DryRunReport, paint: (code: string, s: string) => string): string[] {
  const lines: string[] = [];
  if (d.wouldKill)
    lines.push(paint('35;1', `  dry run: would have killed: ${escapeControls(d.wouldKill.message)}`));
  else lines.push('  dry run: nothing would have been killed');
  const refused = Object.entries(d.refusableCalls);
  if (refused.length > 0)
    lines.push(
      paint(
        '35',
        `  dry run: would have refused at entry: ${refused.map(([s, n]) => `${s} ×${n}`).join(', ')}`,
      ),
    );
  return lines;
}
