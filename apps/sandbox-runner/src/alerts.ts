import type { Alert } from '@syscan/core';
import { severityRank } from './severity.js';

/** An alert as the result reports it: the first occurrence of its kind, and how often it fired. */
export interface ReportedAlert extends Alert {
  /** How many times an alert of this type for this syscall fired during the run. */
  occurrences: number;
}

/**
 * Groups the alerts of a run by (type, syscall) so a loop of denied calls is one line with a
 * count, not thousands; the number of groups is capped (a command could use every syscall).
 */
export class AlertLog {
  readonly #groups = new Map<string, ReportedAlert>();
  readonly #maxGroups: number;
  #total = 0;
  #dropped = 0;

  constructor(maxGroups = 256) {
    this.#maxGroups = maxGroups;
  }

  add(alert: Alert): void {
    this.#total++;
    const key = `${alert.type}\0${alert.syscall ?? ''}`;
    const seen = this.#groups.get(key);
    if (seen) {
      seen.occurrences++;
      // Rate alerts grow as the run goes on: keep the latest figures.
      if (alert.type === 'denied_rate' || alert.type === 'total_rate') {
        seen.message = alert.message;
        seen.count = alert.count;
      }
      return;
    }
    if (this.#groups.size >= this.#maxGroups) {
      this.#dropped++;
      return;
    }
    this.#groups.set(key, { ...alert, occurrences: 1 });
  }

  /** Most severe first, then in order of first occurrence. */
  list(): ReportedAlert[] {
    return [...this.#groups.values()]
      .map((a, i) => [a, i] as const)
      .sort(([a, i], [b, j]) => severityRank(b.severity) - severityRank(a.severity) || i - j)
      .map(([a]) => a);
  }

  get total(): number {
    return this.#total;
  }

  /** Alerts not kept because the group cap was reached. */
  get dropped(): number {
    return this.#dropped;
  }
}
