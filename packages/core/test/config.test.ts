import { describe, expect, it } from 'vitest';
import {
  configLayer,
  DEFAULT_DETECTOR_CONFIG,
  detectorConfigJsonSchema,
  isResolvedDetectorConfig,
  isSyscanError,
  learnSequenceModel,
  MAX_COOLDOWN_SECS,
  mergeConfigs,
  resolveDetectorConfig,
  SyscallAnomalyDetector,
  type SyscallEvent,
} from '../src/index.js';

/** The message of the SyscanError `fn` throws (fails the test if it throws anything else). */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isSyscanError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('ERR_SYSCAN_CONFIG');
    return (error as Error).message;
  }
  throw new Error('expected a config error');
}

describe('resolveDetectorConfig', () => {
  it("has the seed's defaults", () => {
    expect(resolveDetectorConfig()).toMatchObject({
      enabled: true,
      strictMode: false,
      alertOnUnknownSyscall: true,
      maxDeniedEventsPerMinute: 5,
      maxTotalEventsPerMinute: 120,
      maxAlertsPerMinute: 30,
      alertCooldownSecs: 20,
      baselineSyscalls: ['read', 'write', 'openat', 'close', 'execve', 'futex'],
      windowMs: 60_000,
      maxTrackedSyscalls: 1024,
      forbiddenSyscalls: [],
      timeSource: 'auto',
    });
    expect(DEFAULT_DETECTOR_CONFIG.dangerousSyscalls).toEqual(
      expect.arrayContaining(['ptrace', 'bpf', 'init_module', 'kexec_load', 'mount', 'setns', 'userfaultfd']),
    );
  });

  it('names the key and the value given', () => {
    expect(configError(() => resolveDetectorConfig({ maxDeniedEventsPerMinute: -1 }))).toBe(
      'invalid detector config: maxDeniedEventsPerMinute must be a positive integer, got -1 (0 means no limit)',
    );
  });

  it('lists every problem in one error', () => {
    const message = configError(
      () =>
        new SyscallAnomalyDetector({
          strictMode: 'yes',
          maxTotalEventsPerMinute: 1.5,
          alertCooldownSecs: -3,
          baselineSyscalls: ['read', '', 7],
          timeSource: 'wall',
          windowMs: 10,
          maxTrackedSyscalls: 0,
          severity: { unknown_syscall: 'urgent', nope: 'low' },
        } as never),
    );
    expect(message).toMatch(/^invalid detector config \(10 problems\): /);
    for (const part of [
      'strictMode must be true or false, got "yes"',
      'maxTotalEventsPerMinute must be a positive integer, got 1.5',
      'alertCooldownSecs must be a number of seconds >= 0, got -3',
      'baselineSyscalls[1] must be a non-empty syscall name, got ""',
      'baselineSyscalls[2] must be a non-empty syscall name, got 7',
      'timeSource must be one of auto, event, clock, got "wall"',
      'windowMs must be an integer number of ms from 60 to 86400000, got 10',
      'maxTrackedSyscalls must be a positive integer up to 1000000, got 0',
      'severity.unknown_syscall must be one of info, low, medium, high, critical, got "urgent"',
      'severity.nope is not an alert type',
    ])
      expect(message).toContain(part);
    expect(message).not.toContain('\n');
  });

  it('rejects unknown keys with a suggestion', () => {
    expect(configError(() => resolveDetectorConfig({ maxDeniedEventsPerMin: 3 }))).toContain(
      'unknown key "maxDeniedEventsPerMin" (did you mean "maxDeniedEventsPerMinute"?)',
    );
    expect(configError(() => resolveDetectorConfig({ baseline_syscall: [] }))).toContain(
      '(did you mean "baseline_syscalls"?)',
    );
    expect(configError(() => resolveDetectorConfig({ colour: 'red' }))).toBe(
      'invalid detector config: unknown key "colour"',
    );
  });

  it('accepts the seed snake_case names (a ZeroClaw TOML section as JSON)', () => {
    const config = resolveDetectorConfig({
      enabled: true,
      strict_mode: true,
      alert_on_unknown_syscall: false,
      max_denied_events_per_minute: 2,
      max_total_events_per_minute: 500,
      max_alerts_per_minute: 10,
      alert_cooldown_secs: 90,
      baseline_syscalls: ['read', 'write'],
    });
    expect(config).toMatchObject({
      strictMode: true,
      alertOnUnknownSyscall: false,
      maxDeniedEventsPerMinute: 2,
      maxTotalEventsPerMinute: 500,
      maxAlertsPerMinute: 10,
      alertCooldownSecs: 90,
      baselineSyscalls: ['read', 'write'],
    });
    expect(configError(() => resolveDetectorConfig({ max_alerts_per_minute: -2 }))).toContain(
      'max_alerts_per_minute must be a positive integer, got -2',
    );
  });

  it('refuses a key given in both spellings', () => {
    expect(configError(() => resolveDetectorConfig({ strictMode: true, strict_mode: false }))).toContain(
      'strictMode given twice (as "strictMode" and "strict_mode")',
    );
  });

  it('ignores baseline metadata keys', () => {
    const config = resolveDetectorConfig({
      $schema: './schema.json',
      description: 'learned from ci',
      learned: { events: 3 },
      baselineSyscalls: ['read'],
    });
    expect(config.baselineSyscalls).toEqual(['read']);
  });

  it('refuses what is not an object', () => {
    expect(configError(() => resolveDetectorConfig([1]))).toBe(
      'invalid detector config: config must be an object, got an array',
    );
    expect(configError(() => resolveDetectorConfig('strict'))).toContain('got "strict"');
    expect(resolveDetectorConfig(null)).toBe(DEFAULT_DETECTOR_CONFIG);
  });

  it('allows 0 (no limit) and any cooldown length', () => {
    expect(
      resolveDetectorConfig({
        maxDeniedEventsPerMinute: 0,
        maxAlertsPerMinute: 0,
        alertCooldownSecs: 86_400,
      }),
    ).toMatchObject({ maxDeniedEventsPerMinute: 0, maxAlertsPerMinute: 0, alertCooldownSecs: 86_400 });
  });

  it('returns a frozen config, and passes a resolved one through', () => {
    const config = resolveDetectorConfig({ strictMode: true });
    expect(Object.isFrozen(config)).toBe(true);
    expect(resolveDetectorConfig(config)).toBe(config);
    expect(new SyscallAnomalyDetector(config).config).toBe(config);
  });
});

describe('detectorConfigJsonSchema', () => {
  it('is a draft 2020-12 schema of every key, both spellings, closed', () => {
    const schema = detectorConfigJsonSchema as {
      $schema: string;
      properties: Record<string, { default?: unknown }>;
      additionalProperties: boolean;
    };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    for (const key of [
      'maxDeniedEventsPerMinute',
      'max_denied_events_per_minute',
      'baselineSyscalls',
      'learned',
    ]) {
      expect(schema.properties).toHaveProperty([key]);
    }
    expect(schema.properties.maxTotalEventsPerMinute!.default).toBe(120);
    expect(schema.properties).not.toHaveProperty(['now']);
    // Every key the schema names is accepted by the validator.
    for (const key of Object.keys(schema.properties)) {
      if (['$schema', 'description', 'learned'].includes(key)) continue;
      expect(() => resolveDetectorConfig({ [key]: undefined })).not.toThrow();
    }
  });
});

describe('mergeConfigs', () => {
  it('lets a later layer win key by key, and names the layer in errors', () => {
    const merged = mergeConfigs(
      configLayer({ baselineSyscalls: ['read', 'write'], maxAlertsPerMinute: 3 }, "config 'c.json'"),
      configLayer({ baseline_syscalls: ['read'], learned: { events: 1 } }, "baseline 'b.json'"),
    );
    expect(merged.baselineSyscalls).toEqual(['read']);
    expect(merged.maxAlertsPerMinute).toBe(3);
    expect(merged.maxTotalEventsPerMinute).toBe(120);
    expect(isResolvedDetectorConfig(merged)).toBe(true);
    expect(configError(() => configLayer({ strict_mode: 'yes' }, "baseline 'b.json'"))).toBe(
      'invalid detector config in baseline \'b.json\': strict_mode must be true or false, got "yes"',
    );
  });

  it('adds up forbidden and dangerous syscalls: a later layer cannot take one away', () => {
    const merged = mergeConfigs(
      { forbiddenSyscalls: ['ptrace'], dangerousSyscalls: ['bpf'] },
      { forbiddenSyscalls: ['mount'], dangerousSyscalls: [] },
    );
    expect([...merged.forbiddenSyscalls].sort()).toEqual(['mount', 'ptrace']);
    expect(merged.dangerousSyscalls).toEqual(['bpf']);
    // No layer names them: the built-in list.
    expect(mergeConfigs({}, {}).dangerousSyscalls).toBe(DEFAULT_DETECTOR_CONFIG.dangerousSyscalls);
  });

  it('merges severities per alert type', () => {
    const merged = mergeConfigs(
      { severity: { unknown_syscall: 'low' } },
      { severity: { denied_syscall: 'critical' } },
    );
    expect(merged.severity.unknown_syscall).toBe('low');
    expect(merged.severity.denied_syscall).toBe('critical');
    expect(merged.severity.total_rate).toBe('medium');
  });

  it('keeps numbers finite: a cooldown of 1e308 is refused', () => {
    expect(configError(() => resolveDetectorConfig({ alertCooldownSecs: 1e308 }))).toContain(
      'alertCooldownSecs must be a number of seconds >= 0, got 1e+308',
    );
    expect(resolveDetectorConfig({ alertCooldownSecs: MAX_COOLDOWN_SECS }).alertCooldownSecs).toBe(
      MAX_COOLDOWN_SECS,
    );
  });

  it('reads a learned sequence model when the config is resolved: a learned one is kept as given, anything else is a config error', () => {
    const calls = ['openat', 'read', 'close'].map((syscall) => ({ syscall, pid: 7 }) as SyscallEvent);
    const model = learnSequenceModel([calls, calls, calls]);
    expect(resolveDetectorConfig({ sequenceModel: model }).sequenceModel).toBe(model);
    expect(configError(() => resolveDetectorConfig({ sequenceModel: { version: 1 } }))).toMatch(
      /sequenceModel: .*format/,
    );
  });
});
