/**
 * Holds a guarded response until it is judged. Every way a body can leave is covered:
 * Express's `send`/`json`/`jsonp` (judged on the payload the handler passed), and Node's
 * `writeHead`/`write`/`end`/`flushHeaders` (headers held back, written bytes buffered up to
 * the cap and judged at `end`). Nothing reaches the socket before the verdict, so every
 * response carries one, and a withheld response can still become a problem.
 */
import type { Response } from 'express';
import { type ProblemDetails, type ProblemHeaders, sendProblem } from './problem.js';
import type { GuardVerdict } from './types.js';

/** What a watched response asks the guard. */
export interface Judge {
  /**
   * Verdict for a payload: what `send`/`json` got, or the whole body written (a Buffer or
   * string). A promise (a remote store counting the budget) holds the response until it settles.
   */
  inspect(payload: unknown): GuardVerdict | Promise<GuardVerdict>;
  /** An exception of the response's own code after an asynchronous verdict, with nobody left to throw to. */
  lost(error: unknown): void;
  /** Publishes a verdict (header, `res.locals.syscan`, `onVerdict`). */
  publish(verdict: GuardVerdict): void;
  /** The problem that replaces a response with this verdict; undefined lets it through. */
  problemFor(verdict: GuardVerdict): Withheld | undefined;
  /** Most bytes buffered. */
  readonly maxBytes: number;
  /** Lower-case names of the headers a withheld response keeps. */
  readonly keepHeaders: ReadonlySet<string>;
}

export interface Withheld {
  problem: ProblemDetails;
  headers?: ProblemHeaders | undefined;
}

// PENDING: nothing written. BUFFERING: `write` called, bytes held. JUDGING: the body is
// complete and its verdict is on its way (later calls are dropped). RELEASED: judged and
// let through (calls go straight to Node/Express). WITHHELD: replaced by a problem (the
// handler's later calls are dropped).
const PENDING = 0;
const BUFFERING = 1;
const JUDGING = 2;
const RELEASED = 3;
const WITHHELD = 4;

type Fn = (this: Response, ...args: unknown[]) => unknown;
type Callback = (error?: Error | null) => void;
type Methods = Record<'send' | 'json' | 'jsonp' | 'write' | 'end' | 'writeHead' | 'flushHeaders', Fn>;

const CLEAN: GuardVerdict = Object.freeze({ kind: 'clean' });

export class ResponseWatch {
  #phase = PENDING;
  readonly #res: Response;
  readonly #judge: Judge;
  readonly #orig: Methods;
  #chunks: Buffer[] = [];
  #callbacks: Array<Callback | undefined> = [];
  #bytes = 0;

  constructor(res: Response, judge: Judge) {
    this.#res = res;
    this.#judge = judge;
    toDictionaryMode(res);
    const r = res as unknown as Methods;
    this.#orig = {
      send: r.send,
      json: r.json,
      jsonp: r.jsonp,
      write: r.write,
      end: r.end,
      writeHead: r.writeHead,
      flushHeaders: r.flushHeaders,
    };
    const self = this;
    for (const name of ['send', 'json', 'jsonp'] as const) {
      r[name] = function expressSend(...args) {
        return self.#send(name, args);
      };
    }
    r.write = function write(...args) {
      return self.#write(args);
    };
    r.end = function end(...args) {
      return self.#end(args);
    };
    r.writeHead = function writeHead(...args) {
      return self.#writeHead(args);
    };
    r.flushHeaders = function flushHeaders() {
      // Held back until the verdict: flushing would let the status and headers go out unjudged.
      if (self.#phase >= RELEASED) self.#orig.flushHeaders.call(res);
    };
  }

  /** True while the handler has not answered (it may still fail before it does). */
  get pending(): boolean {
    return this.#phase < JUDGING;
  }

  /** True while an answer is being judged (asynchronously). */
  get judging(): boolean {
    return this.#phase === JUDGING;
  }

  get withheld(): boolean {
    return this.#phase === WITHHELD;
  }

  /** Replaces the response with `w` (headers the handler set dropped, buffered bytes discarded). */
  withhold(w: Withheld): void {
    const res = this.#res;
    this.#phase = WITHHELD;
    this.#discard();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const keep = this.#judge.keepHeaders;
    for (const name of res.getHeaderNames()) if (!keep.has(name)) res.removeHeader(name);
    sendProblem(res, w.problem, w.headers, this.#orig.end as (body: string) => unknown);
  }

  /** `send`/`json`/`jsonp`: judged once, on the payload, the first time one is called. */
  #send(name: 'send' | 'json' | 'jsonp', args: unknown[]): unknown {
    const res = this.#res;
    const original = this.#orig[name];
    if (this.#phase === WITHHELD || this.#phase === JUDGING) return res;
    // Buffering: Express's send ends in `end`, which judges the whole body.
    if (this.#phase !== PENDING) return original.apply(res, args);
    return this.#then(this.#judge.inspect(payloadOf(args)), () => {
      try {
        return original.apply(res, args);
      } catch (error) {
        // e.g. JSON.stringify of a BigInt, a throwing toJSON: its message may quote the output.
        return this.#failed(error);
      }
    });
  }

  /**
   * Decides on `verdict` and, when the response may go on, runs `go`. An asynchronous
   * verdict holds the response (JUDGING) and runs `go` once it settles; a rejection is an
   * `error` verdict.
   */
  #then(verdict: GuardVerdict | Promise<GuardVerdict>, go: () => unknown): unknown {
    if (!(verdict instanceof Promise)) return this.#decide(verdict) ? go() : this.#res;
    this.#phase = JUDGING;
    const settle = (v: GuardVerdict): void => {
      try {
        if (this.#decide(v)) go();
      } catch (error) {
        // Nobody to throw to any more: the response is cut rather than left half-answered.
        this.#judge.lost(error);
        if (!this.#res.writableEnded) this.#res.destroy();
      }
    };
    verdict.then(settle, (error: unknown) => settle({ kind: 'error', error }));
    return this.#res;
  }

  #write(args: unknown[]): unknown {
    const res = this.#res;
    if (this.#phase === RELEASED) return this.#orig.write.apply(res, args);
    const cb = typeof args[args.length - 1] === 'function' ? (args[args.length - 1] as Callback) : undefined;
    if (this.#phase === WITHHELD || this.#phase === JUDGING) {
      if (cb) process.nextTick(cb);
      return true;
    }
    this.#phase = BUFFERING;
    const chunk = toBuffer(args[0], typeof args[1] === 'string' ? args[1] : undefined);
    if (chunk.byteLength > 0 || cb) {
      this.#chunks.push(chunk);
      this.#callbacks.push(cb);
      this.#bytes += chunk.byteLength;
    }
    if (this.#bytes > this.#judge.maxBytes) {
      const verdict: GuardVerdict = {
        kind: 'uninspected',
        reason: `streamed body over maxInspectBytes (${this.#judge.maxBytes} bytes)`,
      };
      // Sync by construction (nothing to count), so the stream goes on or stops right here.
      if (this.#decide(verdict)) this.#flush();
    }
    return true;
  }

  #end(args: unknown[]): unknown {
    const res = this.#res;
    if (this.#phase === RELEASED) return this.#orig.end.apply(res, args);
    const cbAt = args.findIndex((a) => typeof a === 'function');
    const cb = cbAt === -1 ? undefined : (args[cbAt] as Callback);
    if (this.#phase === WITHHELD || this.#phase === JUDGING) {
      if (cb) process.nextTick(cb);
      return res;
    }
    const chunk = cbAt === 0 ? undefined : args[0];
    const encoding = typeof args[1] === 'string' ? args[1] : undefined;
    const wasBuffering = this.#phase === BUFFERING;
    let body: unknown = chunk;
    if (wasBuffering) {
      if (chunk !== undefined && chunk !== null) this.#chunks.push(toBuffer(chunk, encoding));
      body = Buffer.concat(this.#chunks);
    } else if (typeof chunk === 'string' && encoding !== undefined && !/^utf-?8$/i.test(encoding)) {
      body = Buffer.from(chunk, encoding as BufferEncoding);
    }
    const size = body === undefined || body === null ? 0 : bodySize(body);
    let verdict: GuardVerdict | Promise<GuardVerdict>;
    if (size === 0) verdict = CLEAN;
    else if (size > this.#judge.maxBytes)
      verdict = { kind: 'uninspected', reason: `body over maxInspectBytes (${this.#judge.maxBytes} bytes)` };
    else verdict = this.#judge.inspect(body);
    // The handler's callbacks run once the body is out, or (withheld) at once.
    if (cb) this.#callbacks.push(cb);
    this.#then(verdict, () => {
      const callbacks = this.#callbacks;
      this.#chunks = [];
      this.#callbacks = [];
      const done = (): void => {
        for (const c of callbacks) c?.();
      };
      if (wasBuffering) {
        // The body goes out in one piece: its length is known, whatever the handler announced.
        if (!res.headersSent && res.getHeader('Content-Length') !== undefined)
          res.setHeader('Content-Length', (body as Buffer).byteLength);
        return this.#orig.end.call(res, body as Buffer, done);
      }
      const rest = cbAt === -1 ? args : args.slice(0, cbAt);
      return this.#orig.end.call(res, ...rest, done);
    });
    return res;
  }

  /** Held back while undecided (Node's own `end` calls it again once released). */
  #writeHead(args: unknown[]): unknown {
    const res = this.#res;
    if (this.#phase >= RELEASED) return this.#orig.writeHead.apply(res, args);
    const [status, second, third] = args;
    if (typeof status === 'number') res.statusCode = status;
    if (typeof second === 'string') res.statusMessage = second;
    const headers = typeof second === 'string' ? third : second;
    if (Array.isArray(headers)) {
      // [[name, value], …] or the raw flat [name, value, name, value, …].
      if (Array.isArray(headers[0]))
        for (const [k, v] of headers as [string, string][]) res.appendHeader(k, v);
      else for (let i = 0; i + 1 < headers.length; i += 2) res.appendHeader(headers[i], headers[i + 1]);
    } else if (typeof headers === 'object' && headers !== null) {
      for (const [k, v] of Object.entries(headers)) if (v !== undefined) res.setHeader(k, v as string);
    }
    return res;
  }

  /** Publishes the verdict and withholds or releases: true when the response may go on. */
  #decide(verdict: GuardVerdict): boolean {
    this.#judge.publish(verdict);
    const w = this.#judge.problemFor(verdict);
    if (w !== undefined) {
      this.withhold(w);
      return false;
    }
    this.#phase = RELEASED;
    return true;
  }

  /** An exception out of Express's own send after the verdict: withheld when the guard says so, else rethrown. */
  #failed(error: unknown): unknown {
    const verdict: GuardVerdict = { kind: 'error', error };
    const w = this.#judge.problemFor(verdict);
    if (w === undefined) throw error;
    this.#judge.publish(verdict);
    this.withhold(w);
    return this.#res;
  }

  /** Writes what was buffered, in order, with the handler's callbacks. */
  #flush(): void {
    const chunks = this.#chunks;
    const callbacks = this.#callbacks;
    this.#chunks = [];
    this.#callbacks = [];
    for (let i = 0; i < chunks.length; i++) this.#orig.write.call(this.#res, chunks[i], callbacks[i]);
  }

  #discard(): void {
    const callbacks = this.#callbacks;
    this.#chunks = [];
    this.#callbacks = [];
    this.#bytes = 0;
    for (const c of callbacks) if (c) process.nextTick(c);
  }
}

/**
 * Express gives every response its app's prototype (`Object.setPrototypeOf`), and V8 then
 * shares no hidden class between responses: each property the watch adds copies the
 * response's whole class (~3 µs each, 7 of them), and every later read of the response by
 * Express and Node misses its inline caches. Deleting and re-adding one of Node's own
 * properties (`req`, same value, nothing runs in between) turns the object into a hash
 * table first, where adding costs a hash insert and reads a lookup: in the bench server a
 * watched response then costs no more CPU than an unwatched one (measured +23 µs before).
 * Only a plain writable, enumerable, configurable data property is touched.
 */
function toDictionaryMode(res: Response): void {
  const d = Object.getOwnPropertyDescriptor(res, 'req');
  if (d === undefined || !('value' in d) || !d.writable || !d.enumerable || !d.configurable) return;
  const r = res as unknown as { req?: unknown };
  delete r.req;
  r.req = d.value;
}

/** The body argument of json/jsonp/send, including Express 4's deprecated `(status, body)` forms. */
function payloadOf(args: unknown[]): unknown {
  if (args.length >= 2 && typeof args[0] === 'number') return args[1];
  return args[0];
}

function toBuffer(chunk: unknown, encoding: string | undefined): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, (encoding ?? 'utf8') as BufferEncoding);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  // What Node itself says for other chunk types.
  throw new TypeError('The "chunk" argument must be of type string or an instance of Buffer or Uint8Array');
}

function bodySize(body: unknown): number {
  if (typeof body === 'string') return body.length;
  if (body instanceof Uint8Array) return body.byteLength;
  return 1;
}
