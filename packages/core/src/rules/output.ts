/**
 * Falco output strings: `… (file=%fd.name proc=%proc.aname[2])`. A template compiles once to
 * literal text and field getters; rendering writes `<NA>` for a value the event lacks, as
 * Falco does, and the same values go to Falco's `output_fields`.
 */
import { closestName } from '../closest-name.js';
import { RuleCompileError } from './compile.js';
import { isUnsupportedFalcoField, UNSUPPORTED_FIELD_NAMES } from './falco-fields.js';
import { FIELDS, type FieldValue, type Frame } from './fields.js';
import { formatIp } from './net.js';

export type OutputFieldValue = string | number | boolean | null;

export interface OutputTemplate {
  render(frame: Frame): string;
  /** Every field of the template with its value (`null` when missing or unsupported). */
  fields(frame: Frame): Record<string, OutputFieldValue>;
  /** Falco fields the template names that syscan cannot supply (rendered `<NA>`). */
  unsupported: string[];
}

const FIELD_AT = /%([A-Za-z_][A-Za-z0-9_.]*(?:\[[^\]\s]*\])?)/g;

function show(v: FieldValue): OutputFieldValue {
  if (v === undefined) return null;
  if (v instanceof Uint8Array) return formatIp(v);
  if (Array.isArray(v)) return v.join(',');
  return v as string | number | boolean;
}

export function compileOutput(template: string): OutputTemplate {
  const literals: string[] = [];
  const names: string[] = [];
  const getters: Array<((f: Frame) => FieldValue) | undefined> = [];
  const unsupported: string[] = [];
  let last = 0;
  for (const m of template.matchAll(FIELD_AT)) {
    let ref = m[1]!;
    // A sentence's full stop is not part of the field: `by %proc.name.`
    while (ref.endsWith('.')) ref = ref.slice(0, -1);
    literals.push(template.slice(last, m.index));
    last = m.index + 1 + ref.length;
    const bracket = ref.indexOf('[');
    let name = bracket < 0 ? ref : ref.slice(0, bracket);
    let arg: string | undefined = bracket < 0 ? undefined : ref.slice(bracket + 1, -1);
    for (const prefix of ['evt.arg.', 'evt.rawarg.']) {
      if (name.startsWith(prefix) && arg === undefined) {
        arg = name.slice(prefix.length);
        name = prefix.slice(0, -1);
      }
    }
    names.push(ref);
    const def = FIELDS.get(name);
    if (def === undefined) {
      if (!isUnsupportedFalcoField(name)) {
        const hint = closestName(name, [...FIELDS.keys(), ...UNSUPPORTED_FIELD_NAMES]);
        throw new RuleCompileError(
          `unknown field '%${name}' in output${hint ? ` (did you mean '%${hint}'?)` : ''}`,
          m.index,
        );
      }
      unsupported.push(name);
      getters.push(undefined);
      continue;
    }
    const parsed = arg === undefined ? undefined : /^\d+$/.test(arg) ? Number(arg) : arg;
    if ((def.arg === 'index' || def.arg === 'index-or-name') && parsed === undefined) {
      throw new RuleCompileError(`field '%${name}' needs an argument in output, e.g. %${name}[1]`, m.index);
    }
    const text = def.text;
    getters.push(text === undefined ? (f) => def.get(f, parsed) : text);
  }
  const tail = template.slice(last);
  return {
    unsupported,
    render(frame) {
      let out = '';
      for (let i = 0; i < getters.length; i++) {
        const get = getters[i];
        const v = get === undefined ? null : show(get(frame));
        out += literals[i]! + (v === null ? '<NA>' : String(v));
      }
      return out + tail;
    },
    fields(frame) {
      const out: Record<string, OutputFieldValue> = {};
      for (let i = 0; i < getters.length; i++) {
        const get = getters[i];
        out[names[i]!] = get === undefined ? null : show(get(frame));
      }
      return out;
    },
  };
}
