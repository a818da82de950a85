import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVERYDAY_POLICY } from '@syscan/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../src/policy.js';
import { runSandboxed } from '../src/run.js';
import { hasPython, hasStrace, python } from './helpers.js';

// What `syscan learn` would write after runs of ordinary programs: the calls they made, nothing else.
const normal = [...(EVERYDAY_POLICY.baselineSyscalls ?? [])];
const dir = mkdtempSync(join(tmpdir(), 'sandbox-entry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Issue 9: the runner read the policy's raw keys (`dangerousSyscalls ?? []`), so a learned
// baseline used as the policy (it has no dangerousSyscalls key) refused nothing at entry,
// and snake_case spellings were missed altogether.
describe.skipIf(!hasStrace || !hasPython)(
  'a learned baseline as the policy refuses dangerous calls at entry',
  () => {
    const personality = [python, '-c', 'import ctypes; ctypes.CDLL(None).personality(0xffffffff)'];
    it.each([
      ['camelCase', { baselineSyscalls: normal, maxTotalEventsPerMinute: 0, learned: { events: 1 } }],
      ['snake_case', { baseline_syscalls: normal, max_total_events_per_minute: 0 }],
    ])('%s', async (name, json) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(json));
      const r = await runSandboxed({
        argv: personality,
        policy: loadPolicy(file).config,
        enforce: true,
        failOn: 'critical',
        timeoutMs: 20_000,
      });
      const alert = r.alerts.find((a) => a.syscall === 'personality');
      expect(alert?.severity).toBe('critical');
      // Refused by strace at entry: the call never completed (before the fix: `= 0 (PER_LINUX)`).
      expect(alert?.sample).toMatch(/<unfinished|\(INJECTED\)/);
      expect(alert?.sample).not.toContain('PER_LINUX');
      expect(r.killed?.reason).toBe('policy');
      expect(r.signal).toBe('SIGKILL');
    });
  },
);
