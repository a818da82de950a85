import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SyscallAnomalyDetector, type SyscallEvent } from '../src/index.js';

const eventArb: fc.Arbitrary<SyscallEvent> = fc.record(
  {
    kind: fc.constant('syscall' as const),
    syscall: fc.oneof(
      fc.constantFrom('read', 'write', 'openat', 'close', 'ptrace', 'socket', 'bpf'),
      fc.string({ maxLength: 12 }),
    ),
    denied: fc.boolean(),
    raw: fc.string({ maxLength: 300 }),
    source: fc.constantFrom('strace' as const, 'audit' as const),
    time: fc.oneof(
      fc.integer({ min: 0, max: 10_000_000 }),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -5),
    ),
    line: fc.nat(),
  },
  { requiredKeys: ['kind', 'syscall', 'denied', 'raw', 'source'] },
);

const configArb = fc.record({
  strictMode: fc.boolean(),
  alertOnUnknownSyscall: fc.boolean(),
  maxDeniedEventsPerMinute: fc.nat({ max: 10 }),
  maxTotalEventsPerMinute: fc.nat({ max: 50 }),
  maxAlertsPerMinute: fc.nat({ max: 5 }),
  alertCooldownSecs: fc.nat({ max: 120 }),
  maxTrackedSyscalls: fc.integer({ min: 1, max: 8 }),
  timeSource: fc.constantFrom('auto' as const, 'event' as const, 'clock' as const),
  windowMs: fc.integer({ min: 60, max: 120_000 }),
});

describe('detector properties', () => {
  it('never throws, and the counts add up', () => {
    fc.assert(
      fc.property(
        configArb,
        fc.array(fc.tuple(fc.array(eventArb, { maxLength: 30 }), fc.integer({ min: 0, max: 200_000 })), {
          maxLength: 25,
        }),
        (config, batches) => {
          let clock = 0;
          const d = new SyscallAnomalyDetector({ ...config, now: () => clock });
          let events = 0;
          let denied = 0;
          for (const [batch, step] of batches) {
            clock += step;
            const v = d.observe(batch);
            events += batch.length;
            denied += batch.filter((e) => e.denied).length;
            if (v.kind === 'alert') {
              expect(v.alerts.length).toBeGreaterThan(0);
              for (const a of v.alerts) {
                expect(a.count).toBeGreaterThanOrEqual(1);
                expect(a.message.length).toBeGreaterThan(0);
                if (a.sample !== undefined) expect(a.sample.length).toBeLessThanOrEqual(241);
              }
              const perSyscall = v.alerts.filter((a) => a.syscall !== undefined);
              if (config.strictMode) {
                // Every per-syscall finding is its own alert.
                expect(perSyscall.every((a) => a.count === 1)).toBe(true);
                const deniedAlerts = perSyscall.filter((a) => a.type === 'denied_syscall').length;
                expect(deniedAlerts).toBe(batch.filter((e) => e.denied).length);
              } else {
                const keys = perSyscall.map((a) => `${a.type}\0${a.syscall}`);
                expect(new Set(keys).size).toBe(keys.length);
                const deniedCount = perSyscall
                  .filter((a) => a.type === 'denied_syscall')
                  .reduce((n, a) => n + a.count, 0);
                expect(deniedCount).toBe(batch.filter((e) => e.denied).length);
              }
            } else if (v.kind === 'suppressed') {
              expect(v.heldBack).toBeGreaterThanOrEqual(0);
              expect(v.retryAfterMs).toBeGreaterThanOrEqual(0);
            }
            expect(d.cooldownRemainingMs()).toBeGreaterThanOrEqual(0);
          }
          const counts = d.syscallCounts();
          expect(counts.size).toBeLessThanOrEqual(config.maxTrackedSyscalls);
          let sum = 0;
          for (const n of counts.values()) sum += n;
          expect(sum).toBe(events);
          expect(d.stats()).toMatchObject({ events, deniedEvents: denied });
          const s = d.stats();
          expect(s.cleanVerdicts + s.alertVerdicts + s.suppressedVerdicts).toBe(batches.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the same events give the same verdicts however often they are replayed', () => {
    fc.assert(
      fc.property(
        configArb,
        fc.array(fc.array(eventArb, { maxLength: 20 }), { maxLength: 20 }),
        (config, batches) => {
          const run = (): unknown[] => {
            const d = new SyscallAnomalyDetector({ ...config, timeSource: 'event' });
            return batches.map((b) => d.observe(b));
          };
          expect(run()).toEqual(run());
        },
      ),
      { numRuns: 150 },
    );
  });
});
