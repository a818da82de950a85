import type { Request } from 'express';
import type { Extracted } from './types.js';

/** JSON fields read by the default extractor, in this order. */
export const TELEMETRY_FIELDS = ['trace', 'stderr', 'stdout'] as const;

const utf8 = new TextDecoder('utf-8');

/**
 * The default extractor. A JSON object body gives its `trace`, `stderr` and `stdout` fields
 * (strings, or arrays whose string items are taken); a text or Buffer body is read whole,
 * except that a string already serialised as JSON (`res.type('json').send(text)`) is parsed
 * so that its fields, not its escaped text, are analysed. Anything else has no telemetry.
 */
export function defaultExtract(payload: unknown, req: Request): Extracted {
  if (typeof payload === 'string') return fromText(payload, req);
  if (payload instanceof Uint8Array) return fromText(utf8.decode(payload), req);
  if (typeof payload === 'object' && payload !== null && !Array.isArray(payload)) {
    return fromFields(payload as Record<string, unknown>);
  }
  return undefined;
}

function fromText(text: string, req: Request): Extracted {
  const type = req.res?.getHeader('Content-Type');
  if (typeof type === 'string' && /\bjson\b/i.test(type)) {
    const first = text.trimStart().charCodeAt(0);
    if (first === 123 /* { */) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed === 'object' && parsed !== null)
          return fromFields(parsed as Record<string, unknown>);
      } catch {
        // Not JSON after all: read it as text below.
      }
    }
  }
  return text;
}

function fromFields(body: Record<string, unknown>): Extracted {
  const out: string[] = [];
  for (const field of TELEMETRY_FIELDS) {
    const v = body[field];
    if (typeof v === 'string') {
      if (v.length > 0) out.push(v);
    } else if (Array.isArray(v)) {
      for (const item of v) if (typeof item === 'string' && item.length > 0) out.push(item);
    }
  }
  return out.length > 0 ? out : undefined;
}
