/**
 * The store factory of the Keygate rows: Keygate's own `createStore` (memory, or Redis when the config names one).
 * The Redis rows run when redis-server is installed; run.ts starts one on a free loopback port. A checkout from
 * before the Redis store (a BENCH_BASELINES row) has no `createStore`: it gets the memory store.
 */
import { spawnSync } from 'node:child_process';
import type { KeygateConfig } from '../../src/config/types.js';
import { MemoryStore } from '../../src/session/memory.js';
import type { SessionStore } from '../../src/session/store.js';

export type StoreKind = 'memory' | 'redis';

export function redisStoreAvailable(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

export async function makeStore(kind: StoreKind, config: KeygateConfig): Promise<SessionStore> {
  const redis = (config as { redis?: unknown }).redis !== undefined;
  if ((kind === 'redis') !== redis) throw new Error(`store ${kind} asked, but the configuration says ${redis ? 'redis' : 'memory'}`);
  const server = (await import('../../src/server.js')) as unknown as { createStore?: (config: KeygateConfig) => Promise<SessionStore> };
  if (server.createStore) return server.createStore(config);
  return new MemoryStore({ maxEntries: config.sessionMaxEntries });
}
