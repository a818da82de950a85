/**
 * What the detector derives from a resolved config once (sets and matchers), shared by every
 * detector using that config (a registry creates many).
 */
import type { ResolvedDetectorConfig } from './config.js';
import {
  type AllowedMatchers,
  type CompiledProgram,
  compileAllowed,
  compilePrograms,
  configPrograms,
} from './programs.js';
import { windowLabel } from './verdict.js';

/** Sets built once per resolved config and shared by every detector using it (registries). */
export interface Compiled {
  /** allowedDenials by syscall: errno (any when undefined) and path glob (any when undefined). */
  allowed: AllowedMatchers;
  baseline: ReadonlySet<string>;
  dangerous: ReadonlySet<string>;
  forbidden: ReadonlySet<string>;
  /** The `programs` key: per-program syscalls and allowed denials, by exe path or comm. */
  programs: ReadonlyMap<string, CompiledProgram>;
  windowLabel: string;
}
const compiledCache = new WeakMap<ResolvedDetectorConfig, Compiled>();
export function compile(config: ResolvedDetectorConfig): Compiled {
  let c = compiledCache.get(config);
  if (c === undefined) {
    c = {
      allowed: compileAllowed(config.allowedDenials),
      baseline: new Set(config.baselineSyscalls),
      dangerous: new Set(config.dangerousSyscalls),
      forbidden: new Set(config.forbiddenSyscalls),
      programs: compilePrograms(configPrograms(config)),
      windowLabel: windowLabel(config.windowMs),
    };
    compiledCache.set(config, c);
  }
  return c;
}
