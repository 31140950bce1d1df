import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Agent } from '../helpers/agent.js';
import { loginAs } from '../helpers/keygate.js';
import { TestRedis } from '../helpers/redis.js';
import { callProtected, logoutWithToken, sharedSetup, until, type Instance, type SharedSetup } from '../helpers/shared-redis.js';

describe('two Keygate instances sharing one Redis', () => {
  let redis: TestRedis;
  let setup: SharedSetup;
  let a: Instance;
  let b: Instance;

  before(async () => {
    redis = await TestRedis.start();
    setup = await sharedSetup(3);
    a = await setup.startInstance(0, redis.url);
    b = await setup.startInstance(1, redis.url);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await setup?.idp.close();
    await redis?.stop();
  });

  it('a login on A works on B; a logout on A makes B answer 401 invalid_token for that token', async () => {
    const { token } = await loginAs(new Agent(), a.base, 'alice@example.com', 'alice');
    assert.equal((await callProtected(b.base, token)).status, 200, 'B knows the session A created');
    assert.equal((await callProtected(b.base, token)).status, 200, 'and again (now from its local cache)');
    const logout = await logoutWithToken(a.base, token);
    assert.equal(logout.status, 200);
    const answer = await until(b.base, token, 401);
    assert.equal(answer.status, 401);
    assert.equal(answer.error, 'invalid_token');
    assert.equal((await callProtected(a.base, token)).status, 401);
    assert.match(await (await fetch(new URL('/metrics', b.base))).text(), /^keygate_store_up 1$/m);
  });

  it('a logout on B with the key page button ends the token on A too', async () => {
    const agent = new Agent();
    const { token } = await loginAs(agent, b.base, 'bob@example.com', 'bob');
    assert.equal((await callProtected(a.base, token)).status, 200);
    const logout = await agent.request(new URL('/logout', b.base), { method: 'POST', headers: { 'sec-fetch-site': 'same-origin', accept: 'application/json' } });
    assert.equal(logout.status, 200);
    assert.equal((await until(a.base, token, 401)).status, 401);
  });

  it('a Keygate restart loses no session that Redis holds (same Redis, same SECRET_KEY)', async () => {
    const { token } = await loginAs(new Agent(), a.base, 'alice@example.com', 'alice');
    await a.close();
    const c = await setup.startInstance(2, redis.url);
    try {
      assert.equal((await callProtected(c.base, token)).status, 200, 'a new instance honours the session');
      a = await setup.startInstance(0, redis.url);
      assert.equal((await callProtected(a.base, token)).status, 200, 'so does the restarted one');
    } finally {
      await c.close();
    }
  });

  it('sessions lost because Redis lost its data answer 401 invalid_token', async () => {
    const { token } = await loginAs(new Agent(), a.base, 'bob@example.com', 'bob');
    assert.equal((await callProtected(b.base, token)).status, 200);
    const admin = new Redis({ port: redis.port, host: '127.0.0.1' });
    try {
      await admin.flushall();
    } finally {
      admin.disconnect();
    }
    const answer = await callProtected(a.base, token);
    assert.equal(answer.status, 401);
    assert.equal(answer.error, 'invalid_token');
    // B had the token in its local cache; FLUSHALL announces nothing, but the lost epoch marker drops B's cache.
    const onB = await until(b.base, token, 401);
    assert.deepEqual([onB.status, onB.error], [401, 'invalid_token']);
  });
});

describe('two Keygate processes (the keygate command) sharing one Redis', () => {
  it('a logout on process A makes process B answer 401 for that token', async () => {
    const redis = await TestRedis.start();
    const setup = await sharedSetup(2);
    const a = await setup.spawnInstance(0, redis.url);
    try {
      const b = await setup.spawnInstance(1, redis.url);
      try {
        const { token } = await loginAs(new Agent(), a.base, 'alice@example.com', 'alice');
        assert.equal((await callProtected(b.base, token)).status, 200);
        assert.equal((await callProtected(b.base, token)).status, 200);
        assert.equal((await logoutWithToken(a.base, token)).status, 200);
        const answer = await until(b.base, token, 401);
        assert.deepEqual([answer.status, answer.error], [401, 'invalid_token']);
      } finally {
        await b.stop();
      }
    } finally {
      await a.stop();
      await setup.idp.close();
      await redis.stop();
    }
  });
});
