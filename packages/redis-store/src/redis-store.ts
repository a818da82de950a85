/**
 * `RedisStore`: syscan's per-key detector state (rolling windows, alert budget, cooldown,
 * counts) in Redis or Valkey, so that every guard instance sharing it judges a client as one
 * detector would: a client cooling down on one instance is refused by all, and a burst split
 * across instances fills one window. One Lua script per verdict (EVALSHA, one round trip),
 * one hash per key under `prefix`, expiring once neither its window nor its cooldown matters.
 */

import { createHash } from 'node:crypto';
import {
  type DetectorStore,
  type StateReply,
  type StateSnapshot,
  type StateUpdate,
  SyscanError,
  WINDOW_BUCKETS,
} from '@syscan/core';
import { Redis } from 'ioredis';
import { UPDATE_SCRIPT } from './script.js';

/** The calls of an ioredis client this store uses (an ioredis `Redis`, or `Cluster` for one-key scripts). */
export type RedisClient = Pick<Redis, 'evalsha' | 'eval' | 'hmget' | 'hget' | 'del' | 'quit'>;

export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port/db` (or `rediss://`): the store makes and owns its client. */
  url?: string | undefined;
  /** An ioredis client you made (and close yourself). Exactly one of `url` and `client`. */
  client?: RedisClient | undefined;
  /** Prefix of every key. Defaults to `'syscan:'`; give each policy its own prefix. */
  prefix?: string | undefined;
  /** A key outlives its last update by at least this (ms), and always by its window and cooldown. Defaults to `600_000`. */
  idleTtlMs?: number | undefined;
  /** A call not answered within this (ms) rejects: Redis down or too slow. Defaults to `1000`. */
  timeoutMs?: number | undefined;
}

const FIELDS = ['h', 'st', 'sd', 'sb', 'c', 'ev', 'de', 'cv', 'av', 'sv'] as const;

export class RedisStore implements DetectorStore {
  readonly prefix: string;
  readonly idleTtlMs: number;
  readonly timeoutMs: number;
  readonly client: RedisClient;
  readonly #owned: boolean;
  readonly #sha = createHash('sha1').update(UPDATE_SCRIPT).digest('hex');

  /** @throws SyscanError `ERR_SYSCAN_CONFIG` listing every bad option. */
  constructor(options: RedisStoreOptions) {
    const problems: string[] = [];
    const o = (options ?? {}) as RedisStoreOptions;
    if ((o.url === undefined) === (o.client === undefined))
      problems.push('give exactly one of url and client');
    if (o.url !== undefined && (typeof o.url !== 'string' || !/^rediss?:\/\//.test(o.url)))
      problems.push(`url must be a redis:// or rediss:// URL, got ${String(o.url).slice(0, 60)}`);
    if (o.client !== undefined && typeof (o.client as { evalsha?: unknown })?.evalsha !== 'function')
      problems.push('client must be an ioredis client');
    const prefix = o.prefix ?? 'syscan:';
    if (typeof prefix !== 'string' || prefix.length > 256)
      problems.push('prefix must be a string of at most 256 characters');
    const idleTtlMs = o.idleTtlMs ?? 600_000;
    if (!Number.isSafeInteger(idleTtlMs) || idleTtlMs < 1)
      problems.push(`idleTtlMs must be a positive integer, got ${idleTtlMs}`);
    const timeoutMs = o.timeoutMs ?? 1000;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1)
      problems.push(`timeoutMs must be a positive integer, got ${timeoutMs}`);
    if (problems.length > 0)
      throw new SyscanError('ERR_SYSCAN_CONFIG', `RedisStore: invalid options: ${problems.join('; ')}`);
    this.prefix = prefix;
    this.idleTtlMs = idleTtlMs;
    this.timeoutMs = timeoutMs;
    this.#owned = o.client === undefined;
    this.client = o.client ?? ownClient(o.url as string, timeoutMs);
  }

  async update(key: string, u: StateUpdate): Promise<StateReply> {
    const n = u.steps.length;
    if (n === 0) throw new SyscanError('ERR_SYSCAN_USAGE', 'RedisStore: an update needs at least one step');
    const args: Array<string | number> = [
      String(u.now),
      u.windowMs,
      u.alerts,
      u.deniedLimit,
      u.totalLimit,
      u.budget,
      String(u.now + u.cooldownMs),
      this.idleTtlMs,
      WINDOW_BUCKETS,
      n,
    ];
    for (const s of u.steps) args.push(s.bucket, s.total, s.denied);
    const k = this.prefix + key;
    const reply = (await this.#call('update', key, async () => {
      try {
        return await this.client.evalsha(this.#sha, 1, k, ...args);
      } catch (error) {
        // First use on this server (or after SCRIPT FLUSH): EVAL loads and caches it.
        if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error;
        return await this.client.eval(UPDATE_SCRIPT, 1, k, ...args);
      }
    })) as unknown[];
    return parseReply(reply, n);
  }

  async cooldownMs(key: string, now: number): Promise<number> {
    const c = await this.#call('cooldown read', key, () => this.client.hget(this.prefix + key, 'c'));
    const until = c === null || c === undefined ? Number.NEGATIVE_INFINITY : Number(c);
    return until > now ? until - now : 0;
  }

  async get(key: string, now: number): Promise<StateSnapshot | undefined> {
    const v = await this.#call('read', key, () => this.client.hmget(this.prefix + key, ...FIELDS));
    if (v[0] === null || v[0] === undefined) return undefined;
    const num = (s: string | null | undefined): number => (s === null || s === undefined ? 0 : Number(s));
    const until = v[4] === null || v[4] === undefined ? Number.NEGATIVE_INFINITY : Number(v[4]);
    return {
      total: num(v[1]),
      denied: num(v[2]),
      alerts: num(v[3]),
      cooldownMs: until > now ? until - now : 0,
      counts: {
        events: num(v[5]),
        deniedEvents: num(v[6]),
        cleanVerdicts: num(v[7]),
        alertVerdicts: num(v[8]),
        suppressedVerdicts: num(v[9]),
      },
    };
  }

  async reset(key: string): Promise<void> {
    await this.#call('reset', key, () => this.client.del(this.prefix + key));
  }

  /** Closes the client the store made from `url` (a client you gave stays open). */
  async close(): Promise<void> {
    if (this.#owned) await this.client.quit().catch(() => undefined);
  }

  /** Runs one call with the store's timeout; its failure names the call and the key. */
  async #call<T>(what: string, key: string, run: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([run(), timeout]);
    } catch (error) {
      const msg = error instanceof Error ? error.message : String(error);
      throw new Error(`RedisStore: ${what} of key '${key.slice(0, 64)}' failed: ${msg}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The store's own client: a call waits at most `timeoutMs` (also while reconnecting), is
 * retried once, and connection errors are kept quiet (each failed call rejects instead).
 */
function ownClient(url: string, timeoutMs: number): Redis {
  const client = new Redis(url, {
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    // Reconnect quickly and forever: the store is usable again as soon as Redis is.
    retryStrategy: (times) => Math.min(times * 100, 2000),
  });
  client.on('error', () => {
    // Without a listener ioredis prints every reconnect failure; the failed calls report.
  });
  return client;
}

function parseReply(reply: unknown[], steps: number): StateReply {
  const outcome = String(reply[0]);
  if (outcome !== 'clean' && outcome !== 'alert' && outcome !== 'cooling' && outcome !== 'exhausted')
    throw new Error(`RedisStore: unexpected script reply '${outcome.slice(0, 40)}'`);
  const c = String(reply[1] ?? '');
  const before: Array<readonly [number, number]> = [];
  for (let i = 0; i < steps; i++) before.push([Number(reply[2 + 2 * i]), Number(reply[3 + 2 * i])]);
  return { outcome, before, cooldownUntil: c === '' ? Number.NEGATIVE_INFINITY : Number(c) };
}
