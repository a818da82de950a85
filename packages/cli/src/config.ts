import { configLayer, EVERYDAY_POLICY, mergeConfigs, type ResolvedDetectorConfig } from '@syscan/core';
import { readJsonObject } from './io/json-file.js';

/** The policy a run starts from: core's reviewed everyday policy, or the seed's six syscalls. */
export type PolicyName = 'everyday' | 'seed';

export interface ConfigOptions {
  policy?: PolicyName | undefined;
  config?: string | undefined;
  baseline?: string | undefined;
  strict?: boolean | undefined;
}

/**
 * The detector config of a run, resolved once: the `--policy` (everyday unless `seed`), then
 * `--config`, then `--baseline` (a
 * learned baseline: its syscalls and rate limits win, it never un-forbids a call), then
 * `--strict`, composed by core's `mergeConfigs` with its documented precedence. Each file is
 * checked on its own (either key spelling), so an error names the file it came from.
 */
export async function loadDetectorConfig(options: ConfigOptions): Promise<ResolvedDetectorConfig> {
  // The seed's defaults are the library's; everyday is what `syscan analyze` with no options means.
  const layers = options.policy === 'seed' ? [] : [configLayer(EVERYDAY_POLICY, 'the everyday policy')];
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
