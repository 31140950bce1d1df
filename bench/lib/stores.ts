/**
 * The store factory of the Keygate rows: Keygate's own `createStore` (memory, or Redis when the config names one).
 * The Redis rows run when redis-server is installed; run.ts starts one on a free loopback port.
 */
import { spawnSync } from 'node:child_process';
import type { KeygateConfig } from '../../src/config/types.js';
import { createStore } from '../../src/server.js';
import type { SessionStore } from '../../src/session/store.js';

export type StoreKind = 'memory' | 'redis';

export function redisStoreAvailable(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

export async function makeStore(kind: StoreKind, config: KeygateConfig): Promise<SessionStore> {
  if ((kind === 'redis') !== (config.redis !== undefined)) throw new Error(`store ${kind} asked, but the configuration says ${config.redis ? 'redis' : 'memory'}`);
  return createStore(config);
}
