import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContextTracker } from '../../src/context/tracker.js';
import type { Alert } from '../../src/detect/alert.js';
import { parseRecords } from '../../src/parse/index.js';
import { createRuleEvaluator, loadRules } from '../../src/rules/index.js';
import { AGENT_TOOLS_RULES } from '../../src/rules/packs/index.js';
import type { RuleSource } from '../../src/rules/types.js';

export const hasStrace = spawnSync('strace', ['-V']).status === 0;

export interface TraceOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Skip every connect() with ENETUNREACH (strace fault injection), so a trace can show a
   * connect to a remote address without one packet leaving this machine.
   */
  noNetwork?: boolean;
  /** More strace options (e.g. `-y`). */
  straceArgs?: readonly string[];
}

/** Runs `argv` under `strace -f -qq` (the sandbox runner's flags) and returns the trace text. */
export function traceCommand(argv: readonly string[], options: TraceOptions = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'syscan-rule-trace-'));
  const out = join(dir, 'trace');
  try {
    const inject = options.noNetwork ? ['-e', 'inject=connect:error=ENETUNREACH'] : [];
    const extra = options.straceArgs ?? [];
    const r = spawnSync('strace', ['-f', '-qq', ...inject, ...extra, '-o', out, '--', ...argv], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (r.error) throw r.error;
    return readFileSync(out, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every alert `sources` (default: the agent-tools pack) raise on a trace, through the real parser and context tracker. */
export function ruleAlerts(trace: string, sources: readonly RuleSource[] = [AGENT_TOOLS_RULES]): Alert[] {
  const evaluator = createRuleEvaluator(loadRules(sources).rules);
  const tracker = createContextTracker();
  const alerts: Alert[] = [];
  for (const record of parseRecords(trace)) {
    tracker.observe(record);
    if (record.kind === 'syscall') evaluator.evaluate(record, tracker, alerts);
  }
  return alerts;
}
