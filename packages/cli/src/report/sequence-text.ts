import type { ExplainedCall, SequenceExplanation, SessionAlert } from '@syscan/core';
import { num, printable, type Style } from './style.js';

/** Costliest calls of the window listed with what the model expected there. */
const SURPRISES_SHOWN = 3;
/** Novel calls and pairs listed (the rest are counted). */
const NOVEL_SHOWN = 4;
const INDENT = '            ';

/**
 * A `sequence_anomaly` alert's explanation (core's `SequenceExplanation` in `details`) in a
 * few lines a person can check against the trace: the score against its threshold, the most
 * unusual window of calls with its trace lines, the calls the model did not expect there and
 * what it expected instead, and the calls or pairs no normal run of the program made.
 * Undefined when the alert carries no explanation of that shape (then the plain message stands).
 */
export function sequenceHeadline(alert: SessionAlert): string | undefined {
  const x = explanationOf(alert);
  if (x === undefined || !Number.isFinite(x.score)) return undefined;
  return `${printable(x.program, 80)}: calls unlike its normal runs (score ${fixed(x.score)} > threshold ${fixed(x.threshold)}${thresholdWorth(x)})`;
}

/** `, from 12 normal runs: about 1 in 13 normal runs passes it`, when the threshold cannot hold its rate. */
function thresholdWorth(x: SequenceExplanation): string {
  const f = x.falseAlarms;
  if (f === undefined || f.held !== false || !(f.expected > 0) || !Number.isFinite(f.heldOutScores))
    return '';
  return `, from ${num(f.heldOutScores)} normal runs: about 1 in ${num(Math.round(1 / f.expected))} normal runs passes it`;
}

export function renderSequenceExplanation(alert: SessionAlert, style: Style): string[] {
  const x = explanationOf(alert);
  if (x === undefined || x.window.calls.length === 0) return [];
  const calls = x.window.calls;
  const lines = calls.map((c) => c.line).filter((l): l is number => l !== undefined);
  const span = lines.length > 0 ? `, lines ${lines[0]}–${lines[lines.length - 1]}` : '';
  const normal = x.window.normalMeanCost === undefined ? '' : `, normal ${fixed(x.window.normalMeanCost)}`;
  const out = [
    `${INDENT}${style.dim(`after ${num(x.calls)} calls; most unusual ${calls.length} calls${span} (${fixed(x.window.meanCost)} nats/call${normal}):`)}`,
    `${INDENT}  ${printable(calls.map((c) => c.syscall).join(' '), 160)}`,
  ];
  const surprises = calls
    .filter((c) => c.expected !== undefined && c.expected.length > 0)
    .sort((a, b) => b.cost - a.cost)
    .slice(0, SURPRISES_SHOWN);
  for (const c of surprises) out.push(`${INDENT}  ${surprise(c, style)}`);
  const on = windowTargets(calls);
  if (on !== undefined) out.push(`${INDENT}${style.dim('window on:')} ${on}`);
  const novel = [
    ...x.novel.calls.map((n) => `${printable(n.syscall, 32)}${at(n.line)}`),
    ...x.novel.pairs.map((p) => `${printable(p.syscalls.join('→'), 64)}${at(p.line)}`),
  ];
  if (novel.length > 0) {
    const more =
      x.novel.total > Math.min(novel.length, NOVEL_SHOWN) ? `, … ${num(x.novel.total)} in all` : '';
    out.push(
      `${INDENT}${style.dim('never in a normal run:')} ${novel.slice(0, NOVEL_SHOWN).join(', ')}${more}`,
    );
  }
  const callSet = callSetLine(x);
  if (callSet !== undefined) out.push(`${INDENT}${style.dim(callSet.label)} ${callSet.text}`);
  const mix = mixLine(x);
  if (mix !== undefined) out.push(`${INDENT}${style.dim(mix.label)} ${mix.text}`);
  const sets = setsLine(x);
  if (sets !== undefined) out.push(`${INDENT}${style.dim(sets.label)} ${sets.text}`);
  return out;
}

/** `at its end 12 calls/pairs differ from the nearest normal run: lacks openat, read→openat; adds socket→connect`. */
function setsLine(x: SequenceExplanation): { label: string; text: string } | undefined {
  const sets = x.sets;
  if (sets === undefined || !Array.isArray(sets.missing?.calls) || !Array.isArray(sets.added?.calls))
    return undefined;
  const list = (side: typeof sets.missing) =>
    [...side.calls.map((c) => printable(c, 32)), ...side.pairs.map((p) => printable(p.join('→'), 64))].join(
      ', ',
    );
  const parts = [];
  if (sets.missing.calls.length + sets.missing.pairs.length > 0) parts.push(`lacks ${list(sets.missing)}`);
  if (sets.added.calls.length + sets.added.pairs.length > 0) parts.push(`adds ${list(sets.added)}`);
  if (parts.length === 0) return undefined;
  return {
    label: `at its end ${num(sets.differing)} calls/pairs differ from the nearest normal run:`,
    text: parts.join('; '),
  };
}

/**
 * `7 distinct calls, the nearest normal run 17 (at its end; cosine distance 0.36, rarer than
 * 99% of normal runs): lacks accept, openat; adds ptrace`, when rarer than 90 % of normal runs'.
 * An alert raised before the score weighs the set (its first 512 calls) shows the latest earlier
 * comparison when it adds calls: `… (at 64 calls; cosine distance 0.41, not yet scored): adds socket`.
 */
function callSetLine(x: SequenceExplanation): { label: string; text: string } | undefined {
  const set = x.callSet;
  if (set === undefined || !Array.isArray(set.missing) || !Array.isArray(set.added)) return undefined;
  // Explanations written before `scored` existed were all of scored comparisons.
  const scored = set.scored !== false;
  if (scored ? !(set.rarity >= 1) : set.added.length === 0) return undefined;
  const when = set.at === 'end' ? 'at its end' : `at ${num(set.at)} calls`;
  const rarer = !scored
    ? 'not yet scored'
    : set.rarity >= 2
      ? 'rarer than 99% of normal runs'
      : 'rarer than 90% of normal runs';
  const parts = [];
  if (set.missing.length > 0) parts.push(`lacks ${set.missing.map((c) => printable(c, 32)).join(', ')}`);
  if (set.added.length > 0) parts.push(`adds ${set.added.map((c) => printable(c, 32)).join(', ')}`);
  return {
    label: `${num(set.distinct)} distinct calls, the nearest normal run ${num(set.normalDistinct)} (${when}; cosine distance ${fixed(set.distance)}, ${rarer})${parts.length > 0 ? ':' : ''}`,
    text: parts.join('; '),
  };
}

/** `call mix unlike the nearest normal run (at its end): read 41% vs 12%, close 3% vs 20%`. */
function mixLine(x: SequenceExplanation): { label: string; text: string } | undefined {
  const mix = x.mix;
  if (mix === undefined || !Array.isArray(mix.calls) || mix.distance <= 0) return undefined;
  const shown = mix.calls
    .filter((c) => Math.abs(c.share - c.normalShare) >= 0.02)
    .map((c) => `${printable(c.syscall, 32)} ${pct(c.share)} vs ${pct(c.normalShare)}`);
  if (shown.length === 0) return undefined;
  const when = mix.at === 'end' ? 'at its end' : `at ${num(mix.at)} calls`;
  return { label: `call mix unlike the nearest normal run (${when}):`, text: shown.join(', ') };
}

const pct = (share: number): string => `${Math.round(share * 100)}%`;

/** `:1289 sendto (cost 14.83; expected read 91%, close 9%)`. */
function surprise(c: ExplainedCall, style: Style): string {
  const expected = (c.expected ?? [])
    .filter((e) => e.probability >= 0.005)
    .map((e) => `${printable(e.syscall, 32)} ${Math.round(e.probability * 100)}%`)
    .join(', ');
  const where = c.line === undefined ? '' : `:${c.line} `;
  const on = typeof c.target === 'string' ? ` ${printable(c.target, 120)}` : '';
  return `${where}${style.bold(printable(c.syscall, 32))}${on} ${style.dim(`(cost ${fixed(c.cost)}; expected ${expected || 'something else'})`)}`;
}

/** Targets listed for the window (the rest are counted). */
const TARGETS_SHOWN = 4;

/** `/etc/shadow :528, 10.0.0.5:4444 :590`: the files and peers the window's calls were on, first line each. */
function windowTargets(calls: readonly ExplainedCall[]): string | undefined {
  const first = new Map<string, number | undefined>();
  for (const c of calls)
    if (typeof c.target === 'string' && !first.has(c.target)) first.set(c.target, c.line);
  if (first.size === 0) return undefined;
  const listed = [...first].slice(0, TARGETS_SHOWN).map(([t, line]) => `${printable(t, 120)}${at(line)}`);
  const more = first.size > TARGETS_SHOWN ? `, … ${num(first.size)} in all` : '';
  return `${listed.join(', ')}${more}`;
}

const at = (line: number | undefined): string => (line === undefined ? '' : ` :${line}`);
const fixed = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : String(x));

/** The alert's explanation when it has the shape core writes; a foreign `details` is ignored. */
function explanationOf(alert: SessionAlert): SequenceExplanation | undefined {
  if (alert.type !== 'sequence_anomaly') return undefined;
  const d = alert.details as Partial<SequenceExplanation> | undefined;
  if (
    d === undefined ||
    typeof d.program !== 'string' ||
    typeof d.score !== 'number' ||
    typeof d.threshold !== 'number' ||
    typeof d.calls !== 'number' ||
    !Array.isArray(d.window?.calls) ||
    !Array.isArray(d.novel?.calls) ||
    !Array.isArray(d.novel?.pairs)
  )
    return undefined;
  return d as SequenceExplanation;
}
