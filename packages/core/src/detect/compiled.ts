/**
 * What the detector derives from a resolved config once (sets and matchers), shared by every
 * detector using that config (a registry creates many).
 */
import { globToRegExp } from '../rules/matchers.js';
import type { ResolvedDetectorConfig } from './config.js';
import { windowLabel } from './verdict.js';

/** Sets built once per resolved config and shared by every detector using it (registries). */
export interface Compiled {
  /** allowedDenials by syscall: errno (any when undefined) and path glob (any when undefined). */
  allowed: ReadonlyMap<string, ReadonlyArray<{ errno: string | undefined; path: RegExp | undefined }>>;
  baseline: ReadonlySet<string>;
  dangerous: ReadonlySet<string>;
  forbidden: ReadonlySet<string>;
  windowLabel: string;
}
const compiledCache = new WeakMap<ResolvedDetectorConfig, Compiled>();
export function compile(config: ResolvedDetectorConfig): Compiled {
  let c = compiledCache.get(config);
  if (c === undefined) {
    const allowed = new Map<string, Array<{ errno: string | undefined; path: RegExp | undefined }>>();
    for (const a of config.allowedDenials) {
      let list = allowed.get(a.syscall);
      if (list === undefined) allowed.set(a.syscall, (list = []));
      list.push({ errno: a.errno, path: a.path === undefined ? undefined : globToRegExp(a.path, false) });
    }
    c = {
      allowed,
      baseline: new Set(config.baselineSyscalls),
      dangerous: new Set(config.dangerousSyscalls),
      forbidden: new Set(config.forbiddenSyscalls),
      windowLabel: windowLabel(config.windowMs),
    };
    compiledCache.set(config, c);
  }
  return c;
}
