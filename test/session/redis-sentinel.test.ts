/** The same contract through Redis Sentinel: the store finds the master by asking a real sentinel. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { RedisStore } from '../../src/session/redis.js';
import { TestRedis } from '../helpers/redis.js';
import { sessionStoreContract } from './contract.js';

let dir: string;
let master: TestRedis;
let sentinel: TestRedis;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keygate-sentinel-'));
  master = await TestRedis.start();
  sentinel = await TestRedis.startSentinel(dir, master.port, 'keygate-master');
});
after(async () => {
  await sentinel?.stop();
  await master?.stop();
  await rm(dir, { recursive: true, force: true });
});

sessionStoreContract('RedisStore through Redis Sentinel (SessionStore contract, real sentinel and master)', async (clock) => {
  const config = loadConfig({
    SECRET_KEY: 'redis-config-test-key-0123456789abcdef',
    REDIS_SENTINELS: `127.0.0.1:${sentinel.port}`,
    REDIS_SENTINEL_NAME: 'keygate-master',
    REDIS_PREFIX: `kgtest-${randomUUID()}:`,
  });
  const store = await RedisStore.connect({ ...config.redis!, secretKeys: ['sentinel-test-key-0123456789abcdefghij'], now: clock.now }, 5_000);
  assert.ok(store.healthy, 'connected to the master the sentinel named');
  return store;
});
