/**
 * The records that say what a syscall event acted on: CWD, PATH (one per file), PROCTITLE.
 * Each reader takes its value from the record `text[body, to)` into the event.
 */
import type { ValueDecoder } from './decoder.js';
import { MAX_PATHS, type PendingEvent } from './event.js';
import { findValue, intField, valueEnd } from './fields.js';

/** CWD `cwd=`: the first CWD record of an event wins, even when its value decodes to nothing; another is noted as repeated. */
export function readCwd(
  p: PendingEvent,
  text: string,
  body: number,
  to: number,
  decoder: ValueDecoder,
): void {
  if (p.cwdSeen) {
    p.noteRepeated('CWD');
    return;
  }
  const v = findValue(text, 'cwd=', body, to);
  if (v === -1) return;
  p.cwdSeen = true;
  p.cwd = decoder.decodeAt(text, v, valueEnd(text, v, to), p.interpreted);
}

/** PATH `item=N name=…`: every name, in arrival order with its item number. */
export function readPath(
  p: PendingEvent,
  text: string,
  body: number,
  to: number,
  decoder: ValueDecoder,
): void {
  const v = findValue(text, 'name=', body, to);
  if (v === -1) return;
  const name = decoder.decodeAt(text, v, valueEnd(text, v, to), p.interpreted);
  p.addPath(name, p.pathCount < MAX_PATHS ? intField(text, 'item=', body, to) : undefined);
}

/** AVC_PATH `path=`: the object of the AVC it follows, kept with the event's paths (and on that AVC when it has none). */
export function readAvcPath(
  p: PendingEvent,
  text: string,
  body: number,
  to: number,
  decoder: ValueDecoder,
): void {
  const v = findValue(text, 'path=', body, to);
  if (v === -1) return;
  const path = decoder.decodeAt(text, v, valueEnd(text, v, to), p.interpreted);
  if (path === undefined) return;
  p.addPath(path, undefined);
  const avc = p.avcs === undefined ? p.avc : p.avcs[p.avcs.length - 1];
  if (avc !== undefined && avc.path === undefined) avc.path = path;
}

/** SOCKADDR `saddr=`: the first record's raw hex (the context tracker decodes it into a peer); another is noted as repeated. */
export function readSockaddr(p: PendingEvent, text: string, body: number, to: number): void {
  if (p.saddr !== undefined) {
    p.noteRepeated('SOCKADDR');
    return;
  }
  const v = findValue(text, 'saddr=', body, to);
  if (v !== -1) p.saddr = text.slice(v, valueEnd(text, v, to));
}

/** PROCTITLE `proctitle=`: the first record of an event wins; another is noted as repeated. */
export function readProctitle(
  p: PendingEvent,
  text: string,
  body: number,
  to: number,
  decoder: ValueDecoder,
): void {
  if (p.proctitleSeen) {
    p.noteRepeated('PROCTITLE');
    return;
  }
  const v = findValue(text, 'proctitle=', body, to);
  if (v === -1) return;
  p.proctitleSeen = true;
  p.proctitle = decoder.proctitleValue(text, v, to, p.interpreted);
}
