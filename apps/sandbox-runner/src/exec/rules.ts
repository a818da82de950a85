/**
 * The rules a run is judged by: core's shipped agent-tools pack (unless turned off), then the
 * operator's Falco rules files in order (append/override semantics are core's `loadRules`).
 * Loaded once per process: `exec` per command, `serve` at start. A file that cannot be read,
 * or a rule that does not compile, is one SyscanError line naming the file.
 */
import { readFileSync } from 'node:fs';
import {
  AGENT_TOOLS_RULES,
  egressAllowListRules,
  type LoadedRule,
  loadRules,
  type RuleSource,
  SyscanError,
} from '@syscan/core';

export interface RuleFilesRequest {
  /** Rules files (Falco's language), loaded after the pack. */
  files: readonly string[];
  /** The shipped pack first (default true). */
  defaultRules?: boolean | undefined;
  /** IPs/CIDRs: turns on the pack's egress rule (an alert for a connect anywhere else). */
  egressAllow?: readonly string[] | undefined;
}

export interface RunRules {
  /** What a session is given: the rules, or `false` when there are none (no pack, no files). */
  rules: readonly LoadedRule[] | false;
  /** The loader's warnings (`file:line: rule 'X': …`), each ready to print as one line. */
  warnings: string[];
  /** Where the rules came from, for logs: `syscan:agent-tools + mine.yaml`. */
  source: string;
}

/** Cap of one printed warning: rule files are the operator's, but a line stays a line. */
const MAX_WARNING_CHARS = 400;

export function loadRunRules(req: RuleFilesRequest): RunRules {
  const sources: RuleSource[] = req.defaultRules === false ? [] : [AGENT_TOOLS_RULES];
  for (const path of req.files) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new SyscanError('ERR_SYSCAN_CONFIG', `cannot read rules file ${path}: ${code}`);
    }
    sources.push({ name: path, text });
  }
  if (req.egressAllow !== undefined) {
    if (req.defaultRules === false)
      throw new SyscanError(
        'ERR_SYSCAN_USAGE',
        '--egress-allow sets a list of the default rules; drop --no-default-rules',
      );
    sources.push(egressAllowListRules(req.egressAllow));
  }
  if (sources.length === 0) return { rules: false, warnings: [], source: 'no rules' };
  const loaded = loadRules(sources);
  return {
    rules: loaded.rules,
    warnings: loaded.warnings.map((w) => oneLine(w.message)),
    source: sources.map((s) => s.name).join(' + '),
  };
}

/** Controls (a newline in a rule name) cannot split a warning into lines that look like others. */
function oneLine(message: string): string {
  const flat = message.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return flat.length > MAX_WARNING_CHARS ? `${flat.slice(0, MAX_WARNING_CHARS)}…` : flat;
}

/** Commander's parser of `--egress-allow 10.0.0.0/8,192.168.1.5` (each entry checked by core). */
export function parseNetworks(value: string): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0)
    throw new SyscanError('ERR_SYSCAN_USAGE', '--egress-allow expects IPs or CIDR ranges such as 10.0.0.0/8');
  return list;
}

/** Commander's collector of a repeatable `--rules FILE`. */
export function collectFiles(file: string, files: string[]): string[] {
  return [...files, file];
}
