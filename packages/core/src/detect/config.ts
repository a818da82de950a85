// PLACEHOLDER — replaced by the detector work.
import type { Severity } from '../types.js';
export interface DetectorConfig {
  enabled?: boolean | undefined;
  strictMode?: boolean | undefined;
  alertOnUnknownSyscall?: boolean | undefined;
  maxDeniedEventsPerMinute?: number | undefined;
  maxTotalEventsPerMinute?: number | undefined;
  maxAlertsPerMinute?: number | undefined;
  alertCooldownSecs?: number | undefined;
  baselineSyscalls?: readonly string[] | undefined;
  windowMs?: number | undefined;
  maxTrackedSyscalls?: number | undefined;
  dangerousSyscalls?: readonly string[] | undefined;
  forbiddenSyscalls?: readonly string[] | undefined;
  timeSource?: 'auto' | 'event' | 'clock' | undefined;
  now?: (() => number) | undefined;
  severity?: Partial<Record<string, Severity>> | undefined;
}
export type ResolvedDetectorConfig = Required<Omit<DetectorConfig, 'severity'>>;
export const DEFAULT_DETECTOR_CONFIG = {} as ResolvedDetectorConfig;
export const detectorConfigJsonSchema: Record<string, unknown> = {};
export function resolveDetectorConfig(_config: unknown = {}): ResolvedDetectorConfig {
  return DEFAULT_DETECTOR_CONFIG;
}
