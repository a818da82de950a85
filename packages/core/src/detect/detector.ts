// PLACEHOLDER — replaced by the detector work.
import type { Severity, SyscallEvent } from '../types.js';
import type { DetectorConfig, ResolvedDetectorConfig } from './config.js';
import { resolveDetectorConfig } from './config.js';

export type AlertType = 'unknown_syscall' | 'denied_syscall' | 'denied_rate' | 'total_rate' | 'forbidden_syscall';
export interface Alert {
  type: AlertType;
  severity: Severity;
  message: string;
  syscall?: string;
  count: number;
  limit?: number;
  sample?: string;
  line?: number;
  pid?: number;
  time?: number;
}
export type AnomalyVerdict =
  | { kind: 'clean' }
  | { kind: 'alert'; alerts: Alert[] }
  | { kind: 'suppressed'; reason: string; heldBack: number; retryAfterMs: number };

export class SyscallAnomalyDetector {
  readonly config: ResolvedDetectorConfig;
  constructor(config: DetectorConfig = {}) {
    this.config = resolveDetectorConfig(config);
  }
  analyze(_text: string): AnomalyVerdict {
    return { kind: 'clean' };
  }
  observe(_events: SyscallEvent | Iterable<SyscallEvent>): AnomalyVerdict {
    return { kind: 'clean' };
  }
  syscallCounts(): ReadonlyMap<string, number> {
    return new Map();
  }
  cooldownRemainingMs(): number {
    return 0;
  }
  reset(): void {}
}
