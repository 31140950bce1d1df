import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startDevKeygate, type TestKeygate } from '../helpers/keygate.js';
import { TestRedis } from '../helpers/redis.js';
import { startPair, type Instance, type InstancePair } from '../helpers/shared-redis.js';

const get = (base: URL, path: string, headers: Record<string, string> = {}) =>
  fetch(new URL(path, base), { headers, redirect: 'manual' }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

/** Polls until `base` answers `path` with `status` (the failure count is recorded after the answer is sent). */
async function eventually(base: URL, path: string, headers: Record<string, string>, status: number): Promise<number> {
  const deadline = Date.now() + 2_000;
  let last = await get(base, path, headers);
  while (last !== status && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    last = await get(base, path, headers);
  }
  return last;
}

describe('rate limits shared through the Redis store: two instances, one real redis-server', () => {
  let pair: InstancePair;
  let a: Instance;
  let b: Instance;

  before(async () => {
    const env = { RATE_LIMIT_LOGIN: '4/1m', RATE_LIMIT_BEARER_FAILURES: '3/1m' };
    pair = await startPair(env);
    ({ a, b } = pair);
  });
  after(async () => pair?.close());

  it('EH-01 /login over RATE_LIMIT_LOGIN counted across instances: the 5th login is 429 on either', async () => {
    // Per process, each instance would allow 4 (8 in all); shared, the 4 are for both together.
    assert.deepEqual([await get(a.base, '/login'), await get(b.base, '/login'), await get(a.base, '/login'), await get(b.base, '/login')], [302, 302, 302, 302]);
    assert.equal(await get(a.base, '/login'), 429);
    assert.equal(await get(b.base, '/login'), 429);
  });

  it('EH-02 failed bearer attempts counted across instances: each instance refuses once the shared count is reached', async () => {
    const bad = { authorization: 'Bearer not.a.token' };
    assert.equal(await get(a.base, '/protected', bad), 401);
    assert.equal(await get(b.base, '/protected', bad), 401);
    assert.equal(await get(a.base, '/protected', bad), 401);
    // The third failure (shared count 3 = the limit) was A's: A refuses the address now, before verifying anything.
    assert.equal(await eventually(a.base, '/protected', bad, 429), 429);
    // B learns it at the address's next failure there (at most one more per other instance), then refuses too.
    assert.equal(await get(b.base, '/protected', bad), 401);
    assert.equal(await eventually(b.base, '/protected', bad, 429), 429);
  });
});

describe('rate limits when Redis cannot be reached', () => {
  let redis: TestRedis;
  let kg: TestKeygate;
  const lines: string[] = [];

  before(async () => {
    redis = await TestRedis.start();
    const stream = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done(); } });
    kg = await startDevKeygate({ REDIS_URL: redis.url, SECRET_KEY: 'test-fixture-secret-key-not-a-real-credential', RATE_LIMIT_BEARER_FAILURES: '3/1m' }, { logger: { level: 'warn', stream } });
  });
  after(async () => {
    await kg?.close();
    await redis?.stop();
  });

  it('EH-03 Redis stopped: the limits count per process (neither open nor 503), with one log line', async () => {
    await redis.stop();
    const bad = { authorization: 'Bearer not.a.token' };
    assert.deepEqual([await get(kg.base, '/protected', bad), await get(kg.base, '/protected', bad), await get(kg.base, '/protected', bad)], [401, 401, 401]);
    assert.equal(await eventually(kg.base, '/protected', bad, 429), 429);
    const warnings = lines.filter((line) => line.includes('rate limits: the shared counter'));
    assert.equal(warnings.length, 1, lines.join(''));
    assert.doesNotMatch(warnings[0]!, /not\.a\.token/);
  });
});
