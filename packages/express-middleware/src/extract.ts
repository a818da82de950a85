/**
 * The default extractor: finds the telemetry (the configured fields: `trace`, `stderr`,
 * `stdout`) in whatever shape a tool endpoint answers with, and says so plainly when it
 * cannot read a payload, so that nothing unread is ever called clean.
 */
import type { Request } from 'express';
import type { Extracted, Uninspected } from './types.js';

/** JSON fields read by the default extractor, at any depth. */
export const TELEMETRY_FIELDS: readonly string[] = Object.freeze(['trace', 'stderr', 'stdout']);
/** Default nesting depth the extractor walks (objects, arrays and JSON inside strings). */
export const DEFAULT_MAX_DEPTH = 12;
/** Objects, arrays and strings looked at per payload before it counts as unreadable. */
export const MAX_VISITED = 100_000;

export interface ExtractorOptions {
  /** Field names whose values are telemetry, at any depth. Defaults to {@link TELEMETRY_FIELDS}. */
  fields?: readonly string[] | undefined;
  /** Deepest nesting walked; anything deeper makes the payload `uninspected`. Defaults to 12. */
  maxDepth?: number | undefined;
  /**
   * Most characters read: telemetry found, and any one text parsed as JSON. More makes the
   * payload `uninspected` (so a huge body costs no more than the cap). Defaults to 8 MiB.
   */
  maxChars?: number | undefined;
}

const DEFAULT_MAX_CHARS = 8 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8');

/** Marks a payload (or part of one) the extractor could not read. */
export function uninspected(reason: string): Uninspected {
  return { uninspected: reason };
}

/**
 * An extractor reading, at any depth up to `maxDepth`:
 * - objects and arrays (`{ result: { stdout } }`, `{ results: [{ trace }] }`, a top-level array):
 *   the configured fields' strings and Buffers, and every string or Buffer nested under one;
 * - JSON text: a whole text or Buffer body that is JSON (with or without a JSON content
 *   type), NDJSON bodies line by line, and JSON inside strings (`content[0].text`);
 * - any other text or Buffer body: read whole as telemetry text.
 * Objects with a `toJSON` are read as they serialise. A payload nested too deep or too large
 * to walk comes back `uninspected`; one without any configured field has no telemetry.
 */
export function createExtractor(
  options: ExtractorOptions = {},
): (payload: unknown, req?: Request) => Extracted {
  const fields = new Set(options.fields ?? TELEMETRY_FIELDS);
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  return (payload) => new Walk(fields, maxDepth, maxChars).body(payload);
}

/** The extractor with the default fields and depth. */
export const defaultExtract: (payload: unknown, req?: Request) => Extracted = createExtractor();

class Walk {
  readonly texts: string[] = [];
  visited = 0;
  chars = 0;
  failure: string | undefined;
  readonly #seen = new Set<object>();

  constructor(
    readonly fields: ReadonlySet<string>,
    readonly maxDepth: number,
    readonly maxChars: number,
  ) {}

  /** Keeps a telemetry text, within the cap. */
  #keep(text: string): void {
    this.chars += text.length;
    if (this.chars > this.maxChars)
      this.failure = `telemetry over maxInspectBytes (${this.maxChars} characters)`;
    else this.texts.push(text);
  }

  /** A text or byte length past the cap: unread, before any decoding or parsing. */
  #tooLong(length: number): boolean {
    if (length <= this.maxChars) return false;
    this.failure = `a text of ${length} characters, over maxInspectBytes (${this.maxChars})`;
    return true;
  }

  /** A whole payload: a text body is telemetry itself unless it is JSON. */
  body(payload: unknown): Extracted {
    const size = byteLength(payload);
    if (size !== undefined && this.#tooLong(size)) return uninspected(this.failure!);
    const text = asText(payload);
    if (text !== undefined) {
      if (!this.#json(text, 0, true) && text.length > 0) this.#keep(text);
    } else {
      this.value(payload, 0, false);
    }
    if (this.failure !== undefined) return uninspected(this.failure);
    return this.texts.length > 0 ? this.texts : undefined;
  }

  /** Reads `v`; `telemetry` when it sits under a configured field (every string in it counts). */
  value(v: unknown, depth: number, telemetry: boolean): void {
    if (this.failure !== undefined || v === null || v === undefined) return;
    if (typeof v === 'string') {
      if (telemetry) {
        if (v.length > 0) this.#keep(v);
      } else if (looksLikeJson(v) && !this.#tooLong(v.length)) this.#json(v, depth + 1, false);
      return;
    }
    if (typeof v !== 'object') return;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
      if (telemetry && !this.#tooLong(byteLength(v)!)) this.#keep(asText(v)!);
      return;
    }
    if (depth >= this.maxDepth) {
      this.failure = `payload nested deeper than maxDepth (${this.maxDepth})`;
      return;
    }
    if (this.#seen.has(v)) return;
    this.#seen.add(v);
    if (++this.visited > MAX_VISITED) {
      this.failure = `payload has more than ${MAX_VISITED} objects and strings`;
      return;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length && this.failure === undefined; i++) this.value(v[i], depth + 1, telemetry);
      return;
    }
    // What JSON.stringify (res.json) sends is what counts: a custom toJSON replaces the object.
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function' && !(v instanceof Date)) {
      this.value(toJSON.call(v), depth + 1, telemetry);
      return;
    }
    for (const key of Object.keys(v)) {
      this.value((v as Record<string, unknown>)[key], depth + 1, telemetry || this.fields.has(key));
      if (this.failure !== undefined) return;
    }
  }

  /**
   * Reads JSON text (one document, or NDJSON when `lines`): true when it was JSON. In NDJSON,
   * a line that is not JSON is telemetry text (a trace line), so nothing is skipped. Text
   * that looks like JSON but does not parse (a body cut short) is unreadable, never clean.
   */
  #json(text: string, depth: number, lines: boolean): boolean {
    if (!looksLikeJson(text)) return false;
    const whole = parseJson(text);
    if (whole !== NOT_JSON) {
      this.value(whole, depth, false);
      return true;
    }
    if (!lines) return false;
    if (text.indexOf('\n') === -1) return this.#unparsable();
    const rest: string[] = [];
    for (const line of text.split('\n')) {
      if (!looksLikeJson(line)) {
        rest.push(line);
        continue;
      }
      const doc = parseJson(line);
      if (doc === NOT_JSON) return this.#unparsable();
      this.value(doc, depth, false);
      if (this.failure !== undefined) return true;
    }
    const other = rest.join('\n');
    if (other.trim().length > 0) this.#keep(other);
    return true;
  }

  #unparsable(): true {
    this.failure = 'body looks like JSON but does not parse';
    return true;
  }
}

const NOT_JSON = Symbol('not JSON');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

/**
 * Starts with `{` or `[` after white space: JSON, or meant to be. strace's `[pid  42] …`
 * prefix is the one trace line that starts with `[`.
 */
function looksLikeJson(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123 /* { */) return true;
    if (c === 91 /* [ */) return !text.startsWith('pid ', i + 1);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return false;
}

/** Length of a string, or bytes of a Buffer, typed array or ArrayBuffer; undefined for anything else. */
function byteLength(v: unknown): number | undefined {
  if (typeof v === 'string') return v.length;
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return v.byteLength;
  return undefined;
}

/** A string, Buffer, typed array or ArrayBuffer as text (UTF-8); undefined for anything else. */
export function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return utf8.decode(v);
  if (v instanceof ArrayBuffer) return utf8.decode(new Uint8Array(v));
  if (ArrayBuffer.isView(v)) return utf8.decode(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  return undefined;
}
