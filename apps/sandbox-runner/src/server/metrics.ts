/**
 * The service's Prometheus metrics, kept by hand (text exposition format 0.0.4): a handful
 * of counters, a gauge and one histogram do not need a client library.
 */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Label values come from fixed sets, except alert types and statuses; cap them anyway. */
const MAX_SERIES = 64;

class LabeledCounter {
  readonly values = new Map<string, number>();
  inc(label: string, by = 1): void {
    if (!this.values.has(label) && this.values.size >= MAX_SERIES) label = 'other';
    this.values.set(label, (this.values.get(label) ?? 0) + by);
  }
}

export class Metrics {
  readonly executions = new LabeledCounter();
  readonly alerts = new LabeledCounter();
  readonly kills = new LabeledCounter();
  readonly responses = new LabeledCounter();
  readonly setupErrors = new LabeledCounter();
  inFlight = 0;
  readonly #buckets = new Array<number>(DURATION_BUCKETS.length).fill(0);
  #durationSum = 0;
  #durationCount = 0;

  observeDuration(seconds: number): void {
    this.#durationSum += seconds;
    this.#durationCount++;
    for (let i = 0; i < DURATION_BUCKETS.length; i++)
      if (seconds <= DURATION_BUCKETS[i]!) this.#buckets[i]!++;
  }

  render(): string {
    const out: string[] = [];
    const counter = (name: string, help: string, label: string, c: LabeledCounter): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [v, n] of c.values) out.push(`${name}{${label}="${escapeLabel(v)}"} ${n}`);
    };
    counter('syscan_executions_total', 'Commands run, by verdict.', 'verdict', this.executions);
    counter(
      'syscan_alerts_total',
      'Alerts raised while running commands, by alert type.',
      'type',
      this.alerts,
    );
    counter('syscan_kills_total', 'Command trees killed, by reason.', 'reason', this.kills);
    counter('syscan_setup_errors_total', 'Runs that could not start, by kind.', 'kind', this.setupErrors);
    counter('syscan_http_responses_total', 'HTTP responses, by status code.', 'code', this.responses);
    out.push('# HELP syscan_exec_in_flight Commands running now.', '# TYPE syscan_exec_in_flight gauge');
    out.push(`syscan_exec_in_flight ${this.inFlight}`);
    out.push('# HELP syscan_exec_duration_seconds Wall time of a run, strace start to exit.');
    out.push('# TYPE syscan_exec_duration_seconds histogram');
    for (let i = 0; i < DURATION_BUCKETS.length; i++) {
      out.push(`syscan_exec_duration_seconds_bucket{le="${DURATION_BUCKETS[i]}"} ${this.#buckets[i]}`);
    }
    out.push(`syscan_exec_duration_seconds_bucket{le="+Inf"} ${this.#durationCount}`);
    out.push(`syscan_exec_duration_seconds_sum ${this.#durationSum}`);
    out.push(`syscan_exec_duration_seconds_count ${this.#durationCount}`);
    return `${out.join('\n')}\n`;
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
