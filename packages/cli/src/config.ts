import { type DetectorConfig, isSyscanError, resolveDetectorConfig, SyscanError } from '@syscan/core';
import { readJsonObject } from './io/json-file.js';

export interface ConfigOptions {
  config?: string | undefined;
  baseline?: string | undefined;
  strict?: boolean | undefined;
}

/**
 * The detector config of a run: `--config` first, then `--baseline` on top (a learned
 * baseline is a DetectorConfig too: its syscalls and rate limits win), then `--strict`.
 * Each file is validated on its own so that an error names the file it came from.
 */
export async function loadDetectorConfig(options: ConfigOptions): Promise<DetectorConfig> {
  let merged: Record<string, unknown> = {};
  for (const [what, path] of [
    ['config', options.config],
    ['baseline', options.baseline],
  ] as const) {
    if (path === undefined) continue;
    const value = await readJsonObject(path, what);
    validate(value, `${what} '${path}'`);
    merged = { ...merged, ...value };
  }
  if (options.strict) merged.strictMode = true;
  validate(merged, 'merged config');
  return merged as DetectorConfig;
}

function validate(value: Record<string, unknown>, where: string): void {
  try {
    resolveDetectorConfig(value as DetectorConfig);
  } catch (error) {
    if (isSyscanError(error)) {
      throw new SyscanError(error.code, `invalid ${where}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
