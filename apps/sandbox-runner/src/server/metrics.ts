/**
 * The service's Prometheus metrics, on prom-client with a registry of its own (two apps in
 * one process never share series). Names follow Falco's and Tetragon's exporters:
 * `<project>_<thing>_total` counters with small fixed label sets, durations as histograms.
 */
import { ALERT_TYPES, type Alert, SEVERITIES, type Severity } from '@syscan/core';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Outcome of one run, for `syscan_runs_total{outcome}`. */
export type RunOutcome = 'clean' | 'alert' | 'killed' | 'timeout' | 'aborted' | 'setup_error';

const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const KNOWN_TYPES: ReadonlySet<string> = new Set(ALERT_TYPES);
const KNOWN_SEVERITIES: ReadonlySet<string> = new Set(SEVERITIES);

export class Metrics {
  readonly registry = new Registry();
  /** Kept from the first release: runs by verdict (`clean`, `alert`). */
  readonly executions = new Counter({
    name: 'syscan_executions_total',
    help: 'Commands run, by verdict.',
    labelNames: ['verdict'] as const,
    registers: [this.registry],
  });
  readonly runs = new Counter({
    name: 'syscan_runs_total',
    help: 'Runs by outcome: clean, alert, killed (policy), timeout, aborted, setup_error.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly alerts = new Counter({
    name: 'syscan_alerts_total',
    help: 'Alerts raised while running commands, by alert type and severity.',
    labelNames: ['type', 'severity'] as const,
    registers: [this.registry],
  });
  readonly kills = new Counter({
    name: 'syscan_kills_total',
    help: 'Command trees killed, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly setupErrors = new Counter({
    name: 'syscan_setup_errors_total',
    help: 'Runs that could not start, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly responses = new Counter({
    name: 'syscan_http_responses_total',
    help: 'HTTP responses, by status code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'syscan_exec_in_flight',
    help: 'Commands running now.',
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'syscan_exec_duration_seconds',
    help: 'Wall time of a run, strace start to the last process gone.',
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'syscan_http_request_duration_seconds',
    help: 'Time from request to response finished, by route.',
    labelNames: ['route'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one alert group of a run: `count` alerts of one type, at the group's severity. */
  countAlerts(type: Alert['type'], severity: Severity, count: number): void {
    // Labels come from fixed sets; anything else would let input grow the series.
    const t = KNOWN_TYPES.has(type) ? type : 'other';
    const s = KNOWN_SEVERITIES.has(severity) ? severity : 'other';
    this.alerts.inc({ type: t, severity: s }, count);
  }

  countResponse(status: number): void {
    this.responses.inc({ code: status >= 100 && status < 600 ? String(status) : 'other' });
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
