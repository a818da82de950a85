import type { AnomalyVerdict, DetectorConfig } from '@syscan/core';
import type { Request, Response } from 'express';

/**
 * What the guard decided about one response. The detector's own verdicts (`clean`,
 * `alert`, `suppressed`) plus two of the guard's:
 * - `uninspected`: the body was streamed (`res.write`/`res.end` without `res.send`/`res.json`),
 *   so it went out unread; see the README ("Streamed responses").
 * - `error`: the key, the extractor or the analysis threw, or the payload was over
 *   `maxInspectBytes`; what happened to the response is `failMode`'s call.
 */
export type GuardVerdict =
  | AnomalyVerdict
  | { kind: 'uninspected'; reason: string }
  | { kind: 'error'; error: unknown };

/** Values of the `Syscan-Verdict` response header. */
export type GuardVerdictKind = GuardVerdict['kind'];

/** Telemetry text found in a payload: one text, several (parsed as one batch), or none. */
export type Extracted = string | readonly string[] | undefined;

export interface SyscanGuardOptions {
  /**
   * Detector config for every client (seed keys, camelCase or snake_case), validated when
   * the guard is made. `timeSource` defaults to `'clock'` here, so rate windows, cooldown
   * and `Retry-After` are wall-clock time whatever timestamps the trace carries.
   */
  detector?: DetectorConfig | undefined;
  /** `block` replaces anomalous responses with a 403 and refuses cooling-down clients (429); `report` only labels. Defaults to `'block'`. */
  mode?: 'block' | 'report' | undefined;
  /** The client a request counts against. Defaults to `req.ip` (set Express's `trust proxy` behind a proxy). Must return a non-empty string of at most 1024 characters. */
  key?: ((req: Request) => string) | undefined;
  /** Telemetry text of a payload (what the handler passed to `res.json`/`res.send`). Defaults to the `trace`, `stderr` and `stdout` fields of a JSON object body (strings or arrays of strings) and the whole of a text body. */
  extract?: ((payload: unknown, req: Request) => Extracted) | undefined;
  /** Called once per guarded response with the verdict, before it is sent. Must not throw (a throw or a rejected promise becomes a process warning). */
  onVerdict?: ((verdict: GuardVerdict, req: Request, res: Response) => unknown) | undefined;
  /** Most clients with detector state at once; the least recently seen is dropped first. Defaults to 10 000. */
  maxKeys?: number | undefined;
  /** A client unseen for this long loses its state (ms; a cooling-down client keeps it). 0 = never. Defaults to 600 000 (10 min). */
  idleMs?: number | undefined;
  /** When the guard itself fails in block mode: `closed` withholds the response (500), `open` lets it through. Defaults to `'closed'`. */
  failMode?: 'closed' | 'open' | undefined;
  /** Most characters of extracted text analysed per response; more is a guard failure (see `failMode`), never a silent truncation. Defaults to 8 MiB (8 388 608). */
  maxInspectBytes?: number | undefined;
  /** Clock in ms for the detectors and the per-client registry. Defaults to `Date.now`. */
  now?: (() => number) | undefined;
}

declare global {
  namespace Express {
    interface Locals {
      /** The verdict of `syscanGuard()` for this response. */
      syscan?: GuardVerdict;
    }
  }
}
