/**
 * @syscan/redis-store: syscan's per-client detector state in Redis (or Valkey), shared by
 * every guard instance that uses the same store: `syscanGuard({ store: new RedisStore({ url }) })`.
 */
export { type RedisClient, RedisStore, type RedisStoreOptions } from './redis-store.js';
export { UPDATE_SCRIPT } from './script.js';
