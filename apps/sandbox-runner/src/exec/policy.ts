/**
 * Policies, resolved once: the default policy (core's reviewed `EVERYDAY_POLICY`, which
 * `syscan analyze` defaults to as well) or `--config FILE`, with a learned baseline
 * (`--baseline FILE`) on top, composed by core's `mergeConfigs` (the baseline's
 * `baselineSyscalls` win; forbidden and dangerous lists only grow). Every problem of every
 * file is one SyscanError line naming the file.
 */
import { readFileSync } from 'node:fs';
import {
  atLeast,
  type ConfigLayer,
  configLayer,
  EVERYDAY_POLICY,
  mergeConfigs,
  type ResolvedDetectorConfig,
  rateNotHeldText,
  type SequenceModel,
  type Severity,
  SyscanError,
  sequenceCalibration,
} from '@syscan/core';

/** A resolved policy and where it came from (for messages and logs). */
export interface Policy {
  config: ResolvedDetectorConfig;
  source: string;
}

/** The runner's own default under every policy: a trace it takes carries no timestamps. */
const RUNNER_DEFAULTS = configLayer({ timeSource: 'clock' }, 'the runner defaults');

function readJson(path: string | URL, source: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new SyscanError('ERR_SYSCAN_CONFIG', `cannot read ${source}: ${code}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SyscanError('ERR_SYSCAN_CONFIG', `${source} is not valid JSON: ${(error as Error).message}`);
  }
}

function layer(path: string | URL, source: string): ConfigLayer {
  const json = readJson(path, source);
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new SyscanError('ERR_SYSCAN_CONFIG', `${source} must be a JSON object (a detector config)`);
  return configLayer(json, source);
}

/**
 * Reads the policy (`file`, else the everyday policy) and an optional learned baseline on
 * top of it, validated and merged into one resolved config.
 */
export function loadPolicy(file?: string, baselineFile?: string): Policy {
  const policySource = file === undefined ? 'default policy' : `policy ${file}`;
  const policy = file === undefined ? configLayer(EVERYDAY_POLICY, policySource) : layer(file, policySource);
  const baseline = baselineFile === undefined ? undefined : layer(baselineFile, `baseline ${baselineFile}`);
  return {
    config: mergeConfigs(RUNNER_DEFAULTS, policy, baseline),
    source: baseline ? `${policySource} + baseline ${baselineFile}` : policySource,
  };
}

/**
 * A warning when the policy's sequence model has programs learned from too few runs to hold
 * its false-alarm rate (see core's `sequenceCalibration`): their thresholds are the highest of
 * a few held-out scores, so about 1 normal run in n + 1 alerts, and under `failOn` at or below
 * `sequence_anomaly`'s severity that normal run is killed. Said once, before any run.
 */
export function sequenceRateWarning(config: ResolvedDetectorConfig, failOn: Severity): string | undefined {
  if (config.sequenceModel === undefined) return undefined;
  const weak = rateNotHeldText(sequenceCalibration(config.sequenceModel as unknown as SequenceModel));
  if (weak === undefined) return undefined;
  const kills = atLeast(config.severity.sequence_anomaly, failOn)
    ? `; at --fail-on ${failOn} each such run is killed`
    : '';
  return `the sequence model has programs learned from ${weak}${kills}; learn more runs of them`;
}
