// PLACEHOLDER — replaced by the detector work.
import type { DetectorConfig } from './config.js';
import { SyscallAnomalyDetector } from './detector.js';
export interface DetectorRegistryOptions {
  config?: DetectorConfig | undefined;
  maxKeys?: number | undefined;
  idleMs?: number | undefined;
  now?: (() => number) | undefined;
}
export class DetectorRegistry {
  constructor(private readonly options: DetectorRegistryOptions = {}) {}
  get(_key: string): SyscallAnomalyDetector {
    return new SyscallAnomalyDetector(this.options.config);
  }
  peek(_key: string): SyscallAnomalyDetector | undefined {
    return undefined;
  }
  get size(): number {
    return 0;
  }
}
