/**
 * `serve --log-format falco`: every alert of every run as one Falco JSON object per line
 * (core's `toFalcoJson`, Falco's `json_output` shape), on its own stream (stdout), so a
 * Falco forwarder (falcosidekick's inputs, a SIEM's Falco parser) reads it unchanged while
 * the service log (pino) stays on stderr.
 */
import { hostname } from 'node:os';
import { type Alert, toFalcoJson } from '@syscan/core';
import type { LogFn } from './log.js';

/** Falco lines one run may write; past it the rest are counted in one service-log line. */
export const MAX_FALCO_LINES_PER_RUN = 1000;

/** Receives the alerts of one run as they are found; `end()` once the run is over. */
export interface RunAlertLog {
  alert(alert: Alert): void;
  end(): void;
}

/** Opens the alert log of one run (a client's request). */
export type AlertLogFactory = (run: { client: string; argv0: string }) => RunAlertLog;

/** A Falco-format alert log writing lines to `write` (default: stdout), capped per run. */
export function falcoAlertLog(
  log: LogFn,
  write: (line: string) => void = (line) => process.stdout.write(line),
): AlertLogFactory {
  const host = hostname();
  return (run) => {
    let written = 0;
    let dropped = 0;
    return {
      alert(alert) {
        if (written >= MAX_FALCO_LINES_PER_RUN) {
          dropped++;
          return;
        }
        written++;
        write(`${JSON.stringify(toFalcoJson(alert, { hostname: host }))}\n`);
      },
      end() {
        // Not silence: what the cap kept out of the Falco stream is said in the service log.
        if (dropped > 0)
          log('falco_alerts_dropped', { ...run, written, dropped, cap: MAX_FALCO_LINES_PER_RUN });
      },
    };
  };
}
