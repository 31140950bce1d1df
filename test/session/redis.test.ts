import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { KeygateError } from '../../src/errors.js';
import { RedisStore } from '../../src/session/redis.js';
import type { Session } from '../../src/session/store.js';
import { TestRedis } from '../helpers/redis.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { publicSessionId } from '../../src/session/public-id.js';
import { sessionStoreContract } from './contract.js';

const SECRET = 'redis-store-test-key-0123456789abcdef';

let redis: TestRedis;
before(async () => {
  redis = await TestRedis.start();
});
after(async () => redis.stop());

/** A store on the shared test server, under its own prefix so that counts never mix between tests. */
function openStore(options: { now?: () => number; prefix?: string; secretKeys?: string[]; heartbeatMs?: number } = {}): Promise<RedisStore> {
  return RedisStore.open({
    client: new Redis({ port: redis.port, host: '127.0.0.1', commandTimeout: 1_000, enableOfflineQueue: false, maxRetriesPerRequest: 0 }),
    secretKeys: options.secretKeys ?? [SECRET],
    prefix: options.prefix ?? `kgtest-${randomUUID()}:`,
    ...(options.now ? { now: options.now } : {}),
    ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
  });
}

sessionStoreContract('RedisStore (SessionStore contract, real redis-server)', (clock) => openStore({ now: clock.now }));

describe('RedisStore specifics', () => {
  const session = (overrides: Partial<Session> = {}): Session => ({
    id: `sid-${randomUUID()}`,
    sub: `auth0|${randomUUID()}`,
    email: 'alice@example.com',
    apiToken: `eyJhbGciOiJSUzI1NiJ9.api-${randomUUID()}.sig`,
    tokenKind: 'access_token',
    tokenKey: `tk-${randomUUID()}`,
    idToken: `eyJhbGciOiJSUzI1NiJ9.id-${randomUUID()}.sig`,
    refreshToken: `rt-${randomUUID()}`,
    providerSid: `psid-${randomUUID()}`,
    createdAt: Date.now(),
    expiresAt: Date.now() + 60_000,
    ...overrides,
  });

  it('keeps readable, prefixed keys with a Redis TTL equal to the token expiry, and no token in clear', async () => {
    const prefix = `kgtest-${randomUUID()}:`;
    const store = await openStore({ prefix });
    const s = session();
    await store.create(s);
    const admin = new Redis({ port: redis.port, host: '127.0.0.1' });
    try {
      const keys = (await admin.keys(`${prefix}*`)).sort();
      assert.deepEqual(keys, [
        `${prefix}epoch`,
        `${prefix}psid:${s.providerSid}`,
        `${prefix}pub:${publicSessionId(s.id)}`,
        `${prefix}public`,
        `${prefix}session:${s.id}`,
        `${prefix}subject:${s.sub}`,
        `${prefix}sessions`,
        `${prefix}sub:${s.sub}`,
        `${prefix}token:${s.tokenKey}`,
      ].sort());
      const ttl = await admin.pttl(`${prefix}session:${s.id}`);
      assert.ok(ttl > 55_000 && ttl <= 60_000, `session TTL ${ttl}`);
      assert.ok((await admin.pttl(`${prefix}token:${s.tokenKey}`)) > 55_000);
      // A dump of every value holds none of the three tokens.
      const dump = (await Promise.all(keys.map(async (k) => {
        const type = await admin.type(k);
        if (type === 'string') return admin.get(k);
        if (type === 'set') return (await admin.smembers(k)).join(' ');
        return (await admin.zrange(k, '0', '-1')).join(' ');
      }))).join('\n');
      for (const secret of [s.apiToken, s.idToken!, s.refreshToken!]) assert.ok(!dump.includes(secret), 'a token is stored in clear');
      assert.match(dump, /alice@example\.com/, 'the rest stays readable');

      await store.delete(s.id);
      const revokedTtl = await admin.pttl(`${prefix}revoked:${s.tokenKey}`);
      assert.ok(revokedTtl > 55_000 && revokedTtl <= 60_000, `revocation TTL ${revokedTtl}`);
      assert.equal(await admin.exists([`${prefix}session:${s.id}`, `${prefix}token:${s.tokenKey}`]), 0);
      assert.equal(
        await admin.exists([`${prefix}pub:${publicSessionId(s.id)}`, `${prefix}public`, `${prefix}subject:${s.sub}`]), 0,
        'the listing indexes leave with the session',
      );
    } finally {
      admin.disconnect();
      await store.close();
    }
  });

  it('SECRET_KEY rotation: a store with a new first key still reads sessions sealed with the old one; without it, they are refused as a key mismatch', async () => {
    const prefix = `kgtest-${randomUUID()}:`;
    const oldKey = 'old-secret-key-0123456789abcdefghijkl';
    const newKey = 'new-secret-key-0123456789abcdefghijkl';
    const s = session();
    const first = await openStore({ prefix, secretKeys: [oldKey] });
    await first.create(s);
    await first.close();
    const rotated = await openStore({ prefix, secretKeys: [newKey, oldKey] });
    const dropped = await openStore({ prefix, secretKeys: [newKey] });
    try {
      assert.deepEqual(await rotated.get(s.id), s);
      // A session sealed under a removed key cannot be used, and the refusal names the cause (not "the login has ended").
      const mismatch = (error: unknown) => error instanceof KeygateError && error.code === 'invalid_token' && /\(key mismatch\)/.test(error.description);
      await assert.rejects(dropped.get(s.id), mismatch);
      await assert.rejects(dropped.getByToken(s.tokenKey), mismatch);
    } finally {
      await rotated.close();
      await dropped.close();
    }
  });

  it('a repeated token lookup is answered from the local cache (no Redis call), a revocation check too', async () => {
    // A long heartbeat period: no heartbeat command falls between the two counts.
    const store = await openStore({ heartbeatMs: 60_000 });
    const admin = new Redis({ port: redis.port, host: '127.0.0.1' });
    const calls = async () => {
      const info = await admin.info('commandstats');
      return [...info.matchAll(/^cmdstat_(evalsha|eval|get):calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[2]), 0);
    };
    try {
      const s = session();
      await store.create(s);
      assert.deepEqual(await store.getByToken(s.tokenKey), s);
      assert.equal(await store.isRevoked(s.tokenKey), false);
      const before = await calls();
      for (let i = 0; i < 5; i++) {
        assert.deepEqual(await store.getByToken(s.tokenKey), s);
        assert.equal(await store.isRevoked(s.tokenKey), false);
      }
      assert.equal(await calls(), before, 'no lookup reached Redis');
      // What the cache holds is known without waiting, too (the edge's hot path).
      assert.deepEqual(store.peekByToken(s.tokenKey), s);
      assert.equal(store.peekRevoked(s.tokenKey), false);
      assert.equal(store.peekByToken('tk-never-seen'), undefined, 'not cached: not known here');
      await store.delete(s.id);
      assert.equal(store.peekByToken(s.tokenKey), undefined, 'a revocation is never answered from the cache');
      assert.equal(store.peekRevoked(s.tokenKey), undefined);
      assert.equal(await store.getByToken(s.tokenKey), undefined);
      assert.equal(await store.isRevoked(s.tokenKey), true);
    } finally {
      admin.disconnect();
      await store.close();
    }
  });

  it('a revocation on one instance reaches another instance that had the token cached', async () => {
    const prefix = `kgtest-${randomUUID()}:`;
    const a = await openStore({ prefix });
    const b = await openStore({ prefix });
    try {
      const s = session();
      await a.create(s);
      assert.equal(await b.isRevoked(s.tokenKey), false);
      assert.deepEqual(await b.getByToken(s.tokenKey), s); // now cached on b
      await a.delete(s.id);
      const deadline = Date.now() + 2_000;
      while (b.peekRevoked(s.tokenKey) === false && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(b.peekByToken(s.tokenKey), undefined, 'the invalidation took the session out of b\'s cache');
      assert.equal(b.peekRevoked(s.tokenKey), undefined);
      assert.equal(await b.getByToken(s.tokenKey), undefined);
      assert.equal(await b.isRevoked(s.tokenKey), true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('when its invalidation channel drops, an instance stops using its cache and asks Redis (no stale answer, no 503)', async () => {
    const prefix = `kgtest-${randomUUID()}:`;
    const a = await openStore({ prefix });
    const b = await openStore({ prefix });
    const admin = new Redis({ port: redis.port, host: '127.0.0.1' });
    try {
      const s = session();
      await a.create(s);
      assert.deepEqual(await b.getByToken(s.tokenKey), s);
      assert.equal(b.listening, true);
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      const deadline = Date.now() + 2_000;
      while (b.listening && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      assert.equal(b.listening, false, 'the dropped subscriber is noticed');
      // b cannot hear this invalidation; it must not answer from its cache.
      assert.equal(b.peekByToken(s.tokenKey), undefined, 'without its channel, b knows nothing at once');
      await a.delete(s.id);
      assert.equal(await b.getByToken(s.tokenKey), undefined);
      assert.equal(await b.isRevoked(s.tokenKey), true);
      assert.equal(b.healthy, true, 'the store still answers');
      const back = Date.now() + 3_000;
      while (!b.listening && Date.now() < back) await new Promise((r) => setTimeout(r, 20));
      assert.equal(b.listening, true, 'the subscriber comes back by itself');
    } finally {
      admin.disconnect();
      await a.close();
      await b.close();
    }
  });

  it('rotate keeps every other field intact through the Lua script (unicode, false, slashes) and seals the new tokens', async () => {
    const prefix = `kgtest-${randomUUID()}:`;
    const store = await openStore({ prefix });
    const admin = new Redis({ port: redis.port, host: '127.0.0.1' });
    try {
      const s = session({ name: 'Zoë «Ω» 山田 \\ "quoted"', emailVerified: false, picture: 'data:image/png;base64,iVBOR/w0+KGgo=' });
      await store.create(s);
      const next = { apiToken: `new.api.${randomUUID()}`, tokenKey: `tk-${randomUUID()}`, refreshToken: `rt-${randomUUID()}`, expiresAt: s.expiresAt + 60_000 };
      const updated = await store.rotate(s.id, next);
      const { idToken: _dropped, ...rest } = s;
      assert.deepEqual(updated, { ...rest, ...next });
      assert.deepEqual(await store.get(s.id), updated);
      const raw = (await admin.get(`${prefix}session:${s.id}`))!;
      assert.ok(!raw.includes(next.apiToken) && !raw.includes(next.refreshToken), 'the new tokens are sealed too');
      const ttl = await admin.pttl(`${prefix}token:${next.tokenKey}`);
      assert.ok(ttl > 115_000 && ttl <= 120_000, `new token TTL ${ttl}`);
    } finally {
      admin.disconnect();
      await store.close();
    }
  });

  it('a stale invalidation channel (open but silent) is noticed by the heartbeat within 2 s; the cache is then bypassed', async () => {
    const prefix = `kgtest-${randomUUID()}:`;
    const proxy = await TcpProxy.start(redis.port);
    const options = { commandTimeout: 1_000, enableOfflineQueue: false, maxRetriesPerRequest: 0 };
    const a = await openStore({ prefix });
    const b = await RedisStore.open({
      client: new Redis({ host: '127.0.0.1', port: redis.port, ...options }),
      subscriber: new Redis({ host: '127.0.0.1', port: proxy.port, ...options }),
      secretKeys: [SECRET],
      prefix,
    });
    try {
      const s = session();
      await a.create(s);
      assert.deepEqual(await b.getByToken(s.tokenKey), s);
      assert.equal(b.listening, true);
      const heldAt = Date.now();
      proxy.hold();
      while (b.listening && Date.now() - heldAt < 5_000) await new Promise((r) => setTimeout(r, 10));
      const noticedMs = Date.now() - heldAt;
      assert.equal(b.listening, false, 'the silent subscriber is noticed');
      assert.ok(noticedMs < 2_000, `noticed after ${noticedMs} ms`);
      await a.delete(s.id); // b cannot hear this
      assert.equal(await b.getByToken(s.tokenKey), undefined, 'no stale answer from the cache');
      assert.equal(b.healthy, true, 'reads still go to Redis');
    } finally {
      proxy.release();
      await a.close();
      await b.close();
      await proxy.close();
    }
  });

  it('a silent invalidation channel while Redis answers: a logout on another instance is honoured here within one heartbeat', async () => {
    const prefix = `kgtest-${randomUUID()}:`;
    const heartbeatMs = 500;
    const proxy = await TcpProxy.start(redis.port);
    const options = { commandTimeout: 1_000, enableOfflineQueue: false, maxRetriesPerRequest: 0 };
    const a = await openStore({ prefix });
    // b's commands go straight to Redis; only its subscriber goes through the proxy.
    const b = await RedisStore.open({
      client: new Redis({ host: '127.0.0.1', port: redis.port, ...options }),
      subscriber: new Redis({ host: '127.0.0.1', port: proxy.port, ...options }),
      secretKeys: [SECRET],
      prefix,
      heartbeatMs,
    });
    try {
      const s = session();
      await a.create(s);
      assert.deepEqual(await b.getByToken(s.tokenKey), s);
      assert.equal(await b.isRevoked(s.tokenKey), false); // both answers now cached on b
      proxy.hold();
      const loggedOutAt = performance.now();
      assert.equal(await a.delete(s.id), true); // b cannot hear this
      // Every answer on the way comes from b without an error (Redis still answers): the cached session, then none.
      while ((await b.getByToken(s.tokenKey)) !== undefined) {
        assert.ok(performance.now() - loggedOutAt < 3_000, 'the logout is never honoured');
        await new Promise((r) => setTimeout(r, 5));
      }
      const honouredMs = performance.now() - loggedOutAt;
      assert.ok(honouredMs <= heartbeatMs + 100, `the logout was honoured after ${honouredMs.toFixed(0)} ms`);
      assert.equal(await b.isRevoked(s.tokenKey), true);
      assert.equal(b.healthy, true);
    } finally {
      proxy.release();
      await a.close();
      await b.close();
      await proxy.close();
    }
  });

  it('fromUrl opens a store on its own connections without any configuration; connect rejects options it cannot use', async () => {
    const prefix = `kgtest-${randomUUID()}:`;
    const store = await RedisStore.fromUrl(redis.url, { secretKeys: [SECRET], prefix, timeoutMs: 500 });
    try {
      assert.equal(store.healthy && store.listening, true);
      const s = session();
      await store.create(s);
      assert.deepEqual(await store.getByToken(s.tokenKey), s);
    } finally {
      await store.close();
    }
    assert.equal(store.healthy, false, 'closed with its connections');
    const secretKeys = [SECRET];
    const misuse: [Parameters<typeof RedisStore.connect>[0], RegExp][] = [
      [{ secretKeys }, /set url, clusterNodes or sentinels/],
      [{ secretKeys, clusterNodes: [{ host: '127.0.0.1', port: 1 }], sentinels: [{ host: '127.0.0.1', port: 2 }] }, /not both/],
      [{ secretKeys, sentinels: [{ host: '127.0.0.1', port: 2 }] }, /sentinelName/],
      [{ secretKeys, url: 'http://user:hunter2@127.0.0.1:6379' }, /^Redis: url must be redis:\/\//],
      [{ secretKeys, url: redis.url, timeoutMs: 0 }, /timeoutMs/],
    ];
    for (const [options, message] of misuse) {
      await assert.rejects(RedisStore.connect(options), (error: Error) => error instanceof TypeError && message.test(error.message) && !error.message.includes('hunter2'));
    }
  });

  it('withLock excludes holders on two instances', async () => {
    const prefix = `kgtest-${randomUUID()}:`;
    const a = await openStore({ prefix });
    const b = await openStore({ prefix });
    try {
      let inside = 0;
      let most = 0;
      const hold = (store: RedisStore) =>
        store.withLock('refresh:x', 2_000, async () => {
          most = Math.max(most, ++inside);
          await new Promise((r) => setTimeout(r, 20));
          inside--;
        });
      await Promise.all([hold(a), hold(b), hold(a), hold(b)]);
      assert.equal(most, 1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
