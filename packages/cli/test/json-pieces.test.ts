/**
 * `--format json` is written alert by alert; joined, the pieces must be byte for byte the
 * document `JSON.stringify(doc, null, 2)` makes (reports and `jq` gates rely on its shape).
 */
import { createSession } from '@syscan/core';
import { describe, expect, it } from 'vitest';
import { jsonPieces, ndjsonPieces } from '../src/report/json.js';
import { terminalSafeJson } from '../src/report/style.js';

function summaryOf(text: string) {
  const session = createSession({
    config: { baselineSyscalls: ['read'], maxAlertsPerMinute: 0, now: () => 1_000, timeSource: 'clock' },
  });
  session.beginInput('run.strace');
  session.write(text);
  session.end();
  return session.summary();
}

const oneShot = (s: ReturnType<typeof summaryOf>): string => {
  const { verdict, events, alerts, ...rest } = s;
  const doc = { verdict, events, alerts: alerts.map((a) => ({ ...a, file: a.input })), ...rest };
  return `${terminalSafeJson(JSON.stringify(doc, null, 2))}\n`;
};

describe('json report in pieces', () => {
  it('joins to exactly the one-shot document, with alerts, without, and with unsafe characters', () => {
    const many = summaryOf(
      [
        'read(3, "x", 1) = 1',
        'openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)',
        'openat(AT_FDCWD, "/tmp/\u009b\u202eevil", O_RDONLY) = 3',
        'getpid() = 12',
      ].join('\n'),
    );
    expect(many.alerts.length).toBeGreaterThan(1);
    expect([...jsonPieces(many)].join('')).toBe(oneShot(many));
    const clean = summaryOf('read(3, "x", 1) = 1\n');
    expect(clean.alerts).toEqual([]);
    expect([...jsonPieces(clean)].join('')).toBe(oneShot(clean));
    expect(JSON.parse([...jsonPieces(many)].join(''))).toEqual(JSON.parse(oneShot(many)));
    expect([...jsonPieces(many)].join('')).toContain('\\u202e');
  });

  it('ndjson: one line per alert, then the summary line', () => {
    const s = summaryOf('getpid() = 12\ngetuid() = 0\n');
    const lines = [...ndjsonPieces(s, false)];
    expect(lines).toHaveLength(s.alerts.length + 1);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ kind: 'summary', alertsTotal: s.alertsTotal });
    expect([...ndjsonPieces(s, true)]).toHaveLength(1);
  });
});
