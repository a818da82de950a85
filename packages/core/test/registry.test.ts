import { describe, expect, it } from 'vitest';
import { DetectorRegistry, isSyscanError } from '../src/index.js';
import { ev, manualClock } from './detector-helpers.js';

describe('DetectorRegistry', () => {
  it('gives one detector per key, created on first use', () => {
    const r = new DetectorRegistry({ config: { maxAlertsPerMinute: 1 } });
    const a = r.get('client-a');
    expect(r.get('client-a')).toBe(a);
    expect(r.get('client-b')).not.toBe(a);
    expect(r.size).toBe(2);
    expect(a.config.maxAlertsPerMinute).toBe(1);
    expect(r.peek('client-c')).toBeUndefined();
    expect(r.size).toBe(2);
  });

  it('keeps budgets apart: one noisy key cooling down does not silence another', () => {
    const r = new DetectorRegistry({ config: { maxAlertsPerMinute: 1 }, now: () => 0 });
    r.get('noisy').observe(ev('socket'));
    expect(r.get('noisy').observe(ev('socket')).kind).toBe('suppressed');
    expect(r.get('quiet').observe(ev('socket')).kind).toBe('alert');
  });

  it('evicts the least recently used key past maxKeys', () => {
    const r = new DetectorRegistry({ maxKeys: 3 });
    r.get('a');
    r.get('b');
    r.get('c');
    r.get('a'); // a is now the most recent; b the least
    r.get('d');
    expect([...r.keys()]).toEqual(['c', 'a', 'd']);
    expect(r.peek('b')).toBeUndefined();
    for (let i = 0; i < 1000; i++) r.get(`k${i}`);
    expect(r.size).toBe(3);
  });

  it('drops detectors idle for idleMs, by the injected clock, without timers', () => {
    const clock = manualClock(0);
    const r = new DetectorRegistry({ idleMs: 1_000, now: clock.now });
    const a = r.get('a');
    clock.set(500);
    r.get('b');
    clock.set(1_200);
    expect(r.peek('a')).toBeUndefined();
    expect(r.peek('b')).toBeDefined();
    r.get('c');
    expect([...r.keys()]).toEqual(['b', 'c']);
    expect(r.get('a')).not.toBe(a);
  });

  it('keeps an idle key while it cools down, so its cooldown is not lifted early', () => {
    const clock = manualClock(0);
    const r = new DetectorRegistry({
      idleMs: 1_000,
      now: clock.now,
      config: { maxAlertsPerMinute: 1, alertCooldownSecs: 60 },
    });
    r.get('noisy').observe(ev('socket'));
    r.get('noisy').observe(ev('socket'));
    clock.set(5_000);
    r.get('other');
    expect(r.peek('noisy')?.cooldownRemainingMs()).toBe(55_000);
    clock.set(61_000);
    r.get('other');
    expect(r.peek('noisy')).toBeUndefined();
  });

  it('shares its clock with the detectors it creates', () => {
    const clock = manualClock(0);
    const r = new DetectorRegistry({
      config: { maxAlertsPerMinute: 1, alertCooldownSecs: 10 },
      now: clock.now,
    });
    const d = r.get('k');
    d.observe(ev('socket'));
    d.observe(ev('socket'));
    clock.set(4_000);
    expect(d.cooldownRemainingMs()).toBe(6_000);
  });

  it('delete and clear forget keys', () => {
    const r = new DetectorRegistry();
    r.get('a');
    r.get('b');
    expect(r.delete('a')).toBe(true);
    expect(r.delete('a')).toBe(false);
    r.clear();
    expect(r.size).toBe(0);
  });

  it('validates its options and the config once', () => {
    const attempt = (fn: () => unknown): string => {
      try {
        fn();
      } catch (error) {
        expect(isSyscanError(error)).toBe(true);
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(attempt(() => new DetectorRegistry({ maxKeys: 0, idleMs: -1 }))).toBe(
      'invalid detector registry options: maxKeys must be a positive integer, got 0; idleMs must be a number of ms >= 0, got -1',
    );
    expect(attempt(() => new DetectorRegistry({ config: { windowMs: -5 } }))).toContain('windowMs');
  });
});
