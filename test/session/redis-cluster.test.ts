/** The same contract against a real three-node Redis Cluster (the store's scripts keep every key in one hash slot). */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Cluster } from 'ioredis';
import { loadConfig } from '../../src/config/index.js';
import { RedisStore } from '../../src/session/redis.js';
import { TestRedisCluster } from '../helpers/redis-cluster.js';
import { sessionStoreContract } from './contract.js';

const SECRET = 'redis-cluster-test-key-0123456789abcdef';

let cluster: TestRedisCluster;
before(async () => {
  cluster = await TestRedisCluster.start();
});
after(async () => cluster?.stop());

/** Opened from the configuration, as Keygate does: REDIS_CLUSTER_NODES, the prefix turned into a hash tag. */
function openStore(now?: () => number, prefix = `kgtest-${randomUUID()}:`): Promise<RedisStore> {
  const config = loadConfig({
    SECRET_KEY: 'redis-config-test-key-0123456789abcdef',
    REDIS_CLUSTER_NODES: cluster.nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    REDIS_PREFIX: prefix,
  });
  assert.match(config.redis!.prefix, /^\{kgtest-[0-9a-f-]+\}:$/);
  return RedisStore.connect({ ...config.redis!, secretKeys: [SECRET], ...(now ? { now } : {}) }, 5_000);
}

sessionStoreContract('RedisStore on a Redis Cluster (SessionStore contract, three real redis-server nodes)', (clock) => openStore(clock.now));

describe('RedisStore on a Redis Cluster', () => {
  it('a delete on one instance reaches another that had the token cached (PUBLISH crosses the cluster bus)', async () => {
    const prefix = `kgtest-${randomUUID()}:`;
    const a = await openStore(undefined, prefix);
    const b = await openStore(undefined, prefix);
    try {
      assert.ok(a.healthy && b.healthy && b.listening);
      const now = Date.now();
      const session = {
        id: `sid-${randomUUID()}`, sub: `sub-${randomUUID()}`, apiToken: 'h.p.s', tokenKind: 'id_token' as const,
        tokenKey: `tk-${randomUUID()}`, refreshToken: 'rt', createdAt: now, expiresAt: now + 60_000,
      };
      await a.create(session);
      assert.deepEqual(await b.getByToken(session.tokenKey), session);
      assert.deepEqual(await b.getByToken(session.tokenKey), session);
      assert.equal(await a.delete(session.id), true);
      const deadline = Date.now() + 2_000;
      while ((await b.getByToken(session.tokenKey)) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(await b.getByToken(session.tokenKey), undefined);
      assert.equal(await b.isRevoked(session.tokenKey), true);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('rate-limit counters on a Redis Cluster', () => {
  it('EH-06 countHit counts one window per address on any node: the address is the hash tag, not Keygate\'s prefix', async () => {
    const prefix = `kgtest-${randomUUID()}:`;
    const a = await openStore(undefined, prefix);
    const b = await openStore(undefined, prefix);
    try {
      // Many addresses: their counters spread over the three nodes, and every count is shared by both instances.
      for (let i = 0; i < 30; i++) {
        const address = `203.0.113.${i}`;
        assert.deepEqual((await a.countHit('login', address, 60_000)).count, 1, address);
        const second = await b.countHit('login', address, 60_000);
        assert.equal(second.count, 2, address);
        assert.ok(second.resetInMs > 0 && second.resetInMs <= 60_000);
      }
      assert.equal((await a.countHit('callback', '203.0.113.0', 60_000)).count, 1, 'another limit, another counter');
      const client = new Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
      try {
        await new Promise((resolve) => client.once('ready', resolve));
        const keys = new Set<string>();
        for (const node of client.nodes('master')) for (const key of await node.keys(`${prefix}rl:login:*`)) keys.add(`${node.options.port} ${key}`);
        assert.equal(keys.size, 30);
        assert.ok(new Set([...keys].map((k) => k.split(' ')[0])).size > 1, 'on more than one node');
        assert.ok([...keys].every((k) => / kgtest-[0-9a-f-]+:rl:login:\{203\.0\.113\.\d+\}$/.test(k)), [...keys][0]);
      } finally {
        client.disconnect();
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
