import { isSyscanError } from '@syscan/core';
import { describe, expect, it } from 'vitest';
import { syscanGuard } from '../src/index.js';

function problem(options: unknown): string {
  try {
    syscanGuard(options as never);
  } catch (error) {
    expect(isSyscanError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('ERR_SYSCAN_CONFIG');
    return (error as Error).message;
  }
  throw new Error('expected syscanGuard to throw');
}

describe('syscanGuard options, validated when the guard is made', () => {
  it('accepts no options and every valid option', () => {
    expect(typeof syscanGuard()).toBe('function');
    const guard = syscanGuard({
      detector: { baseline_syscalls: ['read'], maxAlertsPerMinute: 5 } as never,
      mode: 'report',
      key: (req) => req.ip ?? '',
      extract: () => undefined,
      onVerdict: () => {},
      maxKeys: 10,
      idleMs: 0,
      failMode: 'open',
      maxInspectBytes: 1024,
      now: () => 0,
    });
    expect(guard.registry.maxKeys).toBe(10);
    expect(guard.registry.config.timeSource).toBe('clock');
    expect(guard.registry.config.baselineSyscalls).toEqual(['read']);
  });

  it('refuses rules that loadRules did not make when the guard is made, not on every response', () => {
    expect(problem({ rules: [{ name: 'home-made', enabled: true }] })).toBe(
      "syscanGuard: invalid options: rules: rule 'home-made' was not made by loadRules",
    );
    expect(problem({ rules: [null] })).toContain('was not made by loadRules');
  });

  it('keeps an explicit detector timeSource', () => {
    expect(syscanGuard({ detector: { timeSource: 'event' } }).registry.config.timeSource).toBe('event');
  });

  it('names an unknown option and suggests the near one', () => {
    expect(problem({ failmode: 'open' })).toBe(
      "syscanGuard: invalid options: unknown option 'failmode' (did you mean 'failMode'?)",
    );
    expect(problem({ max_keys: 5 })).toContain("unknown option 'max_keys' (did you mean 'maxKeys'?)");
    expect(problem({ zzzzzzzzzz: 1 })).toBe("syscanGuard: invalid options: unknown option 'zzzzzzzzzz'");
  });

  it('lists every bad value at once', () => {
    const msg = problem({
      mode: 'enforce',
      failMode: true,
      key: 'ip',
      maxKeys: 0,
      idleMs: -1,
      maxInspectBytes: 1.5,
    });
    expect(msg).toContain("mode must be 'block' or 'report', got 'enforce'");
    expect(msg).toContain("failMode must be 'closed' or 'open', got true");
    expect(msg).toContain("key must be a function, got 'ip'");
    expect(msg).toContain('maxKeys must be a positive integer, got 0');
    expect(msg).toContain('idleMs must be a non-negative integer, got -1');
    expect(msg).toContain('maxInspectBytes must be a positive integer, got 1.5');
    expect(msg.split('\n')).toHaveLength(7);
  });

  it('checks the fail-closed options', () => {
    const msg = problem({
      onUninspected: 'allow',
      maxDepth: 65,
      fields: [],
      keepHeaders: 'vary',
      context: 'yes',
    });
    expect(msg).toContain("onUninspected must be 'block' or 'pass', got 'allow'");
    expect(msg).toContain('maxDepth must be at most 64, got 65');
    expect(msg).toContain('fields must name at least one field');
    expect(msg).toContain("keepHeaders must be an array of at most 64 non-empty names, got 'vary'");
    expect(msg).toContain("context must be true or false, got 'yes'");
    expect(problem({ extract: () => undefined, fields: ['log'] })).toContain(
      'with a custom extract, use createExtractor()',
    );
  });

  it('reports detector config problems through core, prefixed', () => {
    const msg = problem({ detector: { maxAlertsPerMinit: 3 } });
    expect(msg).toMatch(/^syscanGuard: invalid options: detector: .*maxAlertsPerMinit.*maxAlertsPerMinute/);
    expect(problem({ detector: [] })).toContain('detector must be a detector config object, got an array');
  });

  it('rejects options that are not an object', () => {
    expect(problem('block')).toBe("syscanGuard: invalid options: options must be an object, got 'block'");
    expect(problem(null)).toContain('got null');
  });
});
