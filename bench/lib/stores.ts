/**
 * The store factory of the Keygate rows. Adding a store is one entry here plus one row in run.ts.
 * The Redis store (issue 4) is loaded only when src/session/redis.ts exists, so the bench runs before it lands.
 */
import { existsSync } from 'node:fs';
import type { KeygateConfig } from '../../src/config/types.js';
import { MemoryStore } from '../../src/session/memory.js';
import type { SessionStore } from '../../src/session/store.js';

export type StoreKind = 'memory' | 'redis';

const REDIS_MODULE = new URL('../../src/session/redis.ts', import.meta.url);

export function redisStoreAvailable(): boolean {
  return existsSync(REDIS_MODULE);
}

export async function makeStore(kind: StoreKind, config: KeygateConfig): Promise<SessionStore> {
  if (kind === 'memory') return new MemoryStore({ maxEntries: config.sessionMaxEntries });
  // A computed specifier: the module may not exist on this branch, and typecheck must not depend on it.
  const specifier = REDIS_MODULE.href;
  const mod = (await import(specifier)) as { RedisStore?: new (options: { url: string }) => SessionStore; createRedisStore?: (config: KeygateConfig) => Promise<SessionStore> };
  if (mod.createRedisStore) return mod.createRedisStore(config);
  if (mod.RedisStore && config.redisUrl) return new mod.RedisStore({ url: config.redisUrl });
  throw new Error('src/session/redis.ts exports neither createRedisStore nor RedisStore: adapt bench/lib/stores.ts');
}
