import { readFileSync } from 'node:fs';
import { type DetectorConfig, isSyscanError, SyscallAnomalyDetector, SyscanError } from '@syscan/core';

/** policies/default.json, next to src/ and dist/ alike. */
export const DEFAULT_POLICY_URL = new URL('../policies/default.json', import.meta.url);

/** A policy: a DetectorConfig as JSON (the default file, a user's, or `syscan learn` output). */
export interface Policy {
  config: DetectorConfig;
  /** Where it came from, for messages and logs. */
  source: string;
}

/** Reads and validates a policy file; every problem becomes one SyscanError line. */
export function loadPolicy(file?: string): Policy {
  const path = file ?? DEFAULT_POLICY_URL;
  const source = file ?? 'default policy';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new SyscanError('ERR_SYSCAN_CONFIG', `cannot read policy ${source}: ${code}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SyscanError(
      'ERR_SYSCAN_CONFIG',
      `policy ${source} is not valid JSON: ${(error as Error).message}`,
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SyscanError('ERR_SYSCAN_CONFIG', `policy ${source} must be a JSON object (a DetectorConfig)`);
  }
  // A trace carries no timestamps (the runner does not ask strace for them): windows follow the clock.
  const config = { timeSource: 'clock', ...(json as DetectorConfig) } as DetectorConfig;
  try {
    new SyscallAnomalyDetector(config);
  } catch (error) {
    if (isSyscanError(error))
      throw new SyscanError('ERR_SYSCAN_CONFIG', `policy ${source}: ${error.message}`);
    throw error;
  }
  return { config, source };
}
