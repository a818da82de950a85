/**
 * A copy of `s` that shares no memory with the text it was cut from. V8 keeps a slice
 * (`line.slice(…)`, every line the splitter yields) pointing into its parent string, so
 * state that outlives a chunk (per-process facts, samples) must hold copies, or it holds
 * every read chunk alive. Cheap for the short strings this is meant for.
 */
export function detach(s: string): string {
  // Concatenation then slice flattens into a new string of the slice's own length.
  return s.length < 13 ? s : ` ${s}`.slice(1);
}
