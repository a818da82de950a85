import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { StreamVerdict } from '../src/detect/stream.js';
import {
  type AnomalyVerdict,
  analyzeStream,
  parseSyscallEvents,
  SyscallAnomalyDetector,
} from '../src/index.js';

async function* chunks(text: string, size: number, bytes = false): AsyncGenerator<string | Uint8Array> {
  const data = bytes ? new TextEncoder().encode(text) : text;
  for (let i = 0; i < data.length; i += size) yield data.slice(i, i + size);
}

/** The detector alone, as `observe` judges: no rules, no built-in checks. */
const SEED_ONLY = { rules: false, builtinChecks: false } as const;

const trace = [
  'read(3, "é…", 1024) = 1024',
  'write(1, "output", 6) = 6',
  'openat(AT_FDCWD, "/root/.ssh/id_rsa", O_RDONLY) = -1 EACCES (Permission denied)',
  'close(3) = 0',
  'ptrace(PTRACE_ATTACH, 1234) = 0',
  'read(3, "x", 1) = 1',
  'socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 4',
  'connect(4, {sa_family=AF_INET, sin_port=htons(80)}, 16) = 0',
  '',
].join('\n');

async function collect(
  gen: AsyncGenerator<StreamVerdict, unknown>,
): Promise<{ items: StreamVerdict[]; summary: unknown }> {
  const items: StreamVerdict[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { items, summary: r.value };
    items.push(r.value);
  }
}

describe('analyzeStream', () => {
  it('yields the verdicts of the chunks that are not clean, with event counts and line numbers', async () => {
    const { items, summary } = await collect(
      analyzeStream(chunks(trace, 64), { ...SEED_ONLY, config: { now: () => 0, maxAlertsPerMinute: 0 } }),
    );
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => i.verdict.kind !== 'clean' && i.events > 0)).toBe(true);
    const all = items.flatMap((i) =>
      i.verdict.kind === 'alert' ? i.verdict.alerts.map((a) => a.message) : [],
    );
    expect(all).toEqual([
      'denied syscall: openat',
      "unknown syscall 'ptrace' not in baseline",
      "unknown syscall 'socket' not in baseline",
      "unknown syscall 'connect' not in baseline",
    ]);
    expect(summary).toMatchObject({
      parse: { lines: 8, syscallEvents: 8 },
      detector: { events: 8, deniedEvents: 1 },
    });
    const lines = items.map((i) => i.line);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
  });

  it('gives the verdicts observe gives per chunk, whatever the chunking (bytes split inside UTF-8 too)', async () => {
    for (const size of [1, 3, 17, 4096]) {
      const config = { now: () => 0, maxAlertsPerMinute: 2, strictMode: true };
      const { items } = await collect(
        analyzeStream(chunks(trace, size, true), { ...SEED_ONLY, config, includeClean: true }),
      );
      const events = items.reduce((n, i) => n + i.events, 0);
      expect(events).toBe(8);
      // Same events in one batch: the merged alert set equals the stream's (strict: all kept).
      const whole = new SyscallAnomalyDetector({ ...config, maxAlertsPerMinute: 0 }).analyze(trace);
      const streamed = items.flatMap((i) => (i.verdict.kind === 'alert' ? i.verdict.alerts : []));
      const held = items.reduce((n, i) => n + (i.verdict.kind === 'suppressed' ? i.verdict.heldBack : 0), 0);
      expect(streamed.length + held).toBe(whole.kind === 'alert' ? whole.alerts.length : -1);
    }
  });

  it('keeps the state of a detector passed in (e.g. from a registry)', async () => {
    const detector = new SyscallAnomalyDetector({ now: () => 0, maxAlertsPerMinute: 1 });
    await collect(analyzeStream(chunks('ptrace(PTRACE_ATTACH, 1) = 0\n', 100), { detector }));
    const { items } = await collect(
      analyzeStream(chunks('ptrace(PTRACE_ATTACH, 1) = 0\n', 100), { detector }),
    );
    expect(items.map((i) => i.verdict.kind)).toEqual(['suppressed']);
    expect(detector.syscallCounts().get('ptrace')).toBe(2);
  });

  it('judges a live strace as it is written', async () => {
    const child = spawn('strace', ['-f', '--', 'sh', '-c', 'ls / > /dev/null'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const verdicts: AnomalyVerdict[] = [];
    const detector = new SyscallAnomalyDetector({ maxAlertsPerMinute: 0 });
    for await (const item of analyzeStream(child.stderr, { ...SEED_ONLY, detector })) {
      verdicts.push(item.verdict);
      expect(item.line).toBeGreaterThan(0);
    }
    expect(await exited).toBe(0);
    expect(verdicts.length).toBeGreaterThan(0);
    expect(verdicts.some((v) => v.kind === 'alert' && v.alerts.some((a) => a.syscall === 'mmap'))).toBe(true);
    expect(detector.stats().events).toBeGreaterThan(20);
  });

  it('judges records completed only at end of input', async () => {
    // An <unfinished ...> half with no resumption is flushed by end().
    const { items } = await collect(
      analyzeStream(chunks('1234 ptrace(PTRACE_ATTACH, 99 <unfinished ...>\n', 10), {
        ...SEED_ONLY,
        config: { now: () => 0 },
      }),
    );
    expect(items).toHaveLength(1);
    expect(items[0]!.verdict).toMatchObject({ kind: 'alert', alerts: [{ syscall: 'ptrace' }] });
    expect(parseSyscallEvents('1234 ptrace(PTRACE_ATTACH, 99 <unfinished ...>\n')).toHaveLength(1);
  });
});
