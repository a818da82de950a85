import { configLayer, mergeConfigs, type ResolvedDetectorConfig } from '@syscan/core';
import { readJsonObject } from './io/json-file.js';

export interface ConfigOptions {
  config?: string | undefined;
  baseline?: string | undefined;
  strict?: boolean | undefined;
}

/**
 * The detector config of a run, resolved once: `--config` (a policy), then `--baseline` (a
 * learned baseline: its syscalls and rate limits win, it never un-forbids a call), then
 * `--strict`, composed by core's `mergeConfigs` with its documented precedence. Each file is
 * checked on its own (either key spelling), so an error names the file it came from.
 */
export async function loadDetectorConfig(options: ConfigOptions): Promise<ResolvedDetectorConfig> {
  const layers = [];
  for (const [what, path] of [
    ['config', options.config],
    ['baseline', options.baseline],
  ] as const) {
    if (path === undefined) continue;
    layers.push(configLayer(await readJsonObject(path, what), `${what} '${path}'`));
  }
  if (options.strict) layers.push(configLayer({ strictMode: true }, '--strict'));
  return mergeConfigs(...layers);
}
