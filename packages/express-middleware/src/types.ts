import type {
  AnomalyVerdict,
  DetectorConfig,
  DetectorStore,
  LoadedRule,
  ParsedRecord,
  SessionSummary,
} from '@syscan/core';
import type { Request, Response } from 'express';

/**
 * What the guard decided about one response. The core session's verdicts (`clean`,
 * `alert`, `suppressed`) plus two of the guard's:
 * - `uninspected`: the guard could not read the body (streamed past `maxInspectBytes`,
 *   too deep or too large to walk, JSON that does not parse, telemetry over the cap);
 *   in block mode `onUninspected` decides what happens to it.
 * - `error`: the key, the extractor, the analysis or the handler (after the guard began
 *   watching) threw; in block mode `failMode` decides.
 */
export type GuardVerdict =
  | AnomalyVerdict
  | { kind: 'uninspected'; reason: string }
  | { kind: 'error'; error: unknown };

/** Values of the `Syscan-Verdict` response header. */
export type GuardVerdictKind = GuardVerdict['kind'];

/** An extractor's way to say it could not read a payload: the response is `uninspected`. */
export interface Uninspected {
  readonly uninspected: string;
}

/**
 * What an extractor found in a payload:
 * - a text or an array of texts (Buffers allowed): parsed by the core session as one batch;
 * - an array of parsed records or events (`ParsedRecord[]`): judged as one batch (`session.push`);
 * - a `SessionSummary` already judged by a run's own session (the sandbox runner's `serve`):
 *   its verdict becomes the response's verdict, and an alerting one counts against the client's budget;
 * - `{ uninspected: reason }`: could not be read (see {@link GuardVerdict});
 * - `undefined`: no telemetry in it (clean).
 */
export type Extracted =
  | string
  | Uint8Array
  | readonly (string | Uint8Array)[]
  | readonly ParsedRecord[]
  | SessionSummary
  | Uninspected
  | undefined;

export interface SyscanGuardOptions {
  /**
   * Detector config for every client (seed keys, camelCase or snake_case), validated when
   * the guard is made. `timeSource` defaults to `'clock'` here, so rate windows, cooldown
   * and `Retry-After` are wall-clock time whatever timestamps the trace carries.
   */
  detector?: DetectorConfig | undefined;
  /** `block` replaces anomalous or unreadable responses with a problem and refuses cooling-down clients (429); `report` only labels. Defaults to `'block'`. */
  mode?: 'block' | 'report' | undefined;
  /** The client a request counts against. Defaults to `req.ip` (set Express's `trust proxy` behind a proxy). Must return a non-empty string of at most 1024 characters. */
  key?: ((req: Request) => string) | undefined;
  /** Telemetry of a payload (what the handler passed to `res.json`/`res.send`, or the bytes it wrote). Defaults to {@link createExtractor} with `fields` and `maxDepth`. */
  extract?: ((payload: unknown, req: Request) => Extracted) | undefined;
  /** Field names the default extractor reads, at any depth. Defaults to `['trace', 'stderr', 'stdout']`. */
  fields?: readonly string[] | undefined;
  /** Deepest nesting the default extractor walks (1–64); deeper payloads are `uninspected`. Defaults to 12. */
  maxDepth?: number | undefined;
  /** Called once per guarded response with the verdict, before it is sent. Must not throw (a throw or a rejected promise becomes a process warning). */
  onVerdict?: ((verdict: GuardVerdict, req: Request, res: Response) => unknown) | undefined;
  /** Most clients with detector state at once in this process; the least recently seen is dropped first. Defaults to 10 000. */
  maxKeys?: number | undefined;
  /** A client unseen for this long loses its state in this process (ms; a cooling-down client keeps it). 0 = never. Defaults to 600 000 (10 min). */
  idleMs?: number | undefined;
  /** When the guard itself fails (or the handler throws) in block mode: `closed` withholds the response (500), `open` lets it through. Defaults to `'closed'`. */
  failMode?: 'closed' | 'open' | undefined;
  /** In block mode, what an `uninspected` response gets: `block` a 502 problem withholding it, `pass` goes out labelled. Defaults to `'block'`. */
  onUninspected?: 'block' | 'pass' | undefined;
  /** Most bytes of a body buffered, and characters of telemetry analysed, per response; more is `uninspected`, never a silent truncation. Defaults to 8 MiB (8 388 608). */
  maxInspectBytes?: number | undefined;
  /** Response headers kept on a withheld response besides the built-in safe list (CORS, security headers, Vary). */
  keepHeaders?: readonly string[] | undefined;
  /**
   * Who did what to what: the core session's context tracker gives each alert its process,
   * paths and peer (in `res.locals.syscan` and `onVerdict`; a 403 shows none of it). `false`
   * skips it: bare alerts, about three times less judging work per event. Defaults to `true`.
   */
  context?: boolean | undefined;
  /**
   * The tool writes its traces with `strace -o FILE` (no output of the command can be in
   * them), so bytes a command moves into its stderr with `sendfile` and the like, which a
   * trace cannot show, are not withheld as `program_output_unseen`. Defaults to `false`: a
   * trace taken from the command's stderr could hold lines the command wrote.
   */
  ownStream?: boolean | undefined;
  /**
   * Rules the core session judges every event with (from `loadRules`). Defaults to the
   * session's own default, the shipped agent-tools pack; `false` turns rules off. To add
   * yours to the pack: `loadRules([AGENT_TOOLS_RULES, mine])`.
   */
  rules?: readonly LoadedRule[] | false | undefined;
  /**
   * Where each client's detector state (event-rate windows, alert budget, cooldown, counts)
   * lives. Without one, in this process. A core `DetectorStore` shared by every instance of
   * an app (`new RedisStore({ url })` from `@syscan/redis-store`, or core's
   * `MemoryDetectorStore` in one process) judges a client as one detector across them: a
   * client cooling down on one is refused by all, a burst split across them is seen whole.
   * Its calls are async: the handler waits for the cooldown check, the response for the update.
   */
  store?: DetectorStore | undefined;
  /**
   * Block mode, when the store fails (a shared store is down): `block` refuses the request,
   * or withholds its response, with 503 + `Retry-After`; `pass` serves it as if the client had
   * no cooldown, judged by its payload alone (alerts still block; rates and budget are not
   * applied). Either way a process warning. Defaults to `'block'`.
   */
  onStoreError?: 'block' | 'pass' | undefined;
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
