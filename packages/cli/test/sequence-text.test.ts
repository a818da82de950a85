import type { SessionAlert } from '@syscan/core';
import { describe, expect, it } from 'vitest';
import { renderSequenceExplanation } from '../src/report/sequence-text.js';
import { createStyle } from '../src/report/style.js';

/** A sequence alert as core writes it, trimmed to what the text report reads. */
const alert = (mix: unknown, sets?: unknown, callSet?: unknown): SessionAlert =>
  ({
    type: 'sequence_anomaly',
    severity: 'medium',
    message: 'x',
    count: 1,
    details: {
      program: '/usr/sbin/sshd',
      pid: 42,
      calls: 900,
      score: 3.1,
      threshold: 1.9,
      summary: '',
      window: { meanCost: 1.2, normalMeanCost: 0.8, calls: [{ syscall: 'read', cost: 1.2, line: 7 }] },
      novel: { total: 0, calls: [], pairs: [] },
      channels: {},
      mix,
      sets,
      callSet,
    },
  }) as unknown as SessionAlert;

describe('text report: the call mix of a sequence alert', () => {
  const style = createStyle(false);

  it('names the calls whose share differs from the nearest normal run, and when it was compared', () => {
    const lines = renderSequenceExplanation(
      alert({
        distance: 0.21,
        at: 512,
        calls: [
          { syscall: 'read', share: 0.41, normalShare: 0.12 },
          { syscall: 'close', share: 0.03, normalShare: 0.2 },
          { syscall: 'brk', share: 0.01, normalShare: 0.015 },
        ],
      }),
      style,
    );
    expect(lines.at(-1)).toContain(
      'call mix unlike the nearest normal run (at 512 calls): read 41% vs 12%, close 3% vs 20%',
    );
    expect(lines.at(-1)).not.toContain('brk');
  });

  it('says nothing of a mix that differs by less than 2 % per call, or that a model without mixes left out', () => {
    const flat = renderSequenceExplanation(
      alert({ distance: 0.001, at: 'end', calls: [{ syscall: 'read', share: 0.4, normalShare: 0.39 }] }),
      style,
    );
    expect(flat.join('\n')).not.toContain('call mix');
    expect(renderSequenceExplanation(alert(undefined), style).join('\n')).not.toContain('call mix');
  });
});

describe('text report: the set difference of a sequence alert', () => {
  const style = createStyle(false);

  it('says what the nearest normal run made that this one did not, and what it added', () => {
    const lines = renderSequenceExplanation(
      alert(undefined, {
        differing: 12,
        missing: { calls: ['openat'], pairs: [['read', 'openat']] },
        added: { calls: [], pairs: [['socket', 'connect']] },
      }),
      style,
    );
    expect(lines.at(-1)).toContain(
      'at its end 12 calls/pairs differ from the nearest normal run: lacks openat, read→openat; adds socket→connect',
    );
  });

  it('says nothing before the end or for models without it, and survives a malformed field', () => {
    expect(renderSequenceExplanation(alert(undefined), style).join('\n')).not.toContain(
      'nearest normal run:',
    );
    expect(renderSequenceExplanation(alert(undefined, { differing: 3 }), style).join('\n')).not.toContain(
      'differ',
    );
  });
});

describe('text report: the call set of a sequence alert', () => {
  const style = createStyle(false);
  const set = (rarity: number, at: number | 'end' = 'end') => ({
    distance: 0.36,
    rarity,
    at,
    distinct: 7,
    normalDistinct: 17,
    missing: ['accept', 'openat', 'fstat'],
    added: ['ptrace'],
  });

  it('says how many distinct calls it and the nearest normal run made, and which calls one made and the other not', () => {
    const lines = renderSequenceExplanation(alert(undefined, undefined, set(2.3)), style);
    expect(lines.at(-1)).toBe(
      '            7 distinct calls, the nearest normal run 17 (at its end; cosine distance 0.36, rarer than 99% of normal runs): lacks accept, openat, fstat; adds ptrace',
    );
    const running = renderSequenceExplanation(alert(undefined, undefined, set(1.2, 1024)), style);
    expect(running.at(-1)).toContain('(at 1,024 calls; cosine distance 0.36, rarer than 90% of normal runs)');
  });

  it('shows an alert raised in its first 512 calls the latest earlier comparison, unscored, when it adds calls', () => {
    const early = { ...set(0, 64), scored: false };
    expect(renderSequenceExplanation(alert(undefined, undefined, early), style).at(-1)).toBe(
      '            7 distinct calls, the nearest normal run 17 (at 64 calls; cosine distance 0.36, not yet scored): lacks accept, openat, fstat; adds ptrace',
    );
    const nothingAdded = { ...early, added: [] };
    expect(
      renderSequenceExplanation(alert(undefined, undefined, nothingAdded), style).join('\n'),
    ).not.toContain('distinct calls');
  });

  it('says nothing of a set as common as one normal run in ten, or of a malformed one', () => {
    expect(renderSequenceExplanation(alert(undefined, undefined, set(0.8)), style).join('\n')).not.toContain(
      'distinct calls',
    );
    expect(
      renderSequenceExplanation(alert(undefined, undefined, { ...set(2), missing: 'x' }), style).join('\n'),
    ).not.toContain('distinct calls');
  });
});
