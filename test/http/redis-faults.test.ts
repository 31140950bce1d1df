/**
 * Redis faults, fail closed: stopped, frozen (SIGSTOP) and unreachable. Keygate must notice within 2 s (command
 * timeouts and a heartbeat), then answer 503 temporarily_unavailable on /protected (never 200 from its cache, never
 * 500, never a hang), 503 on /readyz and a clear page on /login; and recover by itself within 5 s once Redis is back.
 * And an invalidation channel that falls silent while Redis answers: a logout elsewhere is honoured within one
 * heartbeat. The measured detection and recovery times are printed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from '../helpers/agent.js';
import { RedisStore } from '../../src/session/redis.js';
import { createRedisClient } from '../../src/session/redis-connect.js';
import { loginAs, textOf } from '../helpers/keygate.js';
import { freePort } from '../helpers/net.js';
import { TestRedis } from '../helpers/redis.js';
import { callProtected, logoutWithToken, SECRET_KEY, sharedSetup, type Instance, type SharedSetup } from '../helpers/shared-redis.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const DETECT_MS = 2_000;
const RECOVER_MS = 5_000;
/** One request may wait for one command timeout (1 s) before its 503; this bounds "never a hang". */
const ANSWER_MS = 1_500;
/** The store's default heartbeat period: a silent invalidation channel may keep a logout unseen at most this long. */
const HEARTBEAT_MS = 500;

interface Watch {
  /** ms from the fault until /protected answered `status` and kept answering it. */
  after: number;
  statuses: number[];
}

/** Polls /protected every 20 ms from `since` until it answers `status`; checks every answer on the way. */
async function watchUntil(base: URL, token: string, status: number, since: number, limitMs: number, allowed: number[]): Promise<Watch> {
  const statuses: number[] = [];
  for (;;) {
    const answer = await callProtected(base, token);
    statuses.push(answer.status);
    assert.ok(allowed.includes(answer.status), `unexpected ${answer.status} ${answer.error ?? ''} after ${statuses.join(',')}`);
    assert.ok(answer.ms < ANSWER_MS, `a request took ${answer.ms.toFixed(0)} ms`);
    if (answer.status === 503) assert.equal(answer.error, 'temporarily_unavailable');
    const elapsed = performance.now() - since;
    if (answer.status === status) return { after: elapsed, statuses };
    assert.ok(elapsed < limitMs, `no ${status} within ${limitMs} ms: ${statuses.join(',')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function page(base: URL, path: string) {
  const response = await fetch(new URL(path, base), { headers: { accept: 'text/html' }, redirect: 'manual' });
  return { status: response.status, text: textOf(await response.text()) };
}

/** Once 503 has been seen, a 200 must not come back until Redis is back. */
function assertNoFlapping(statuses: number[]): void {
  const first = statuses.indexOf(503);
  if (first >= 0) assert.ok(!statuses.slice(first).includes(200), `200 after 503: ${statuses.join(',')}`);
}

async function assertDownPages(kg: Instance): Promise<void> {
  const ready = await fetch(new URL('/readyz', kg.base));
  assert.equal(ready.status, 503);
  assert.deepEqual(((await ready.json()) as { checks: Record<string, string> }).checks.store, 'unreachable');
  const metrics = await fetch(new URL('/metrics', kg.base));
  assert.equal(metrics.status, 200, 'metrics still answer while the store is down');
  assert.match(await metrics.text(), /^keygate_store_up 0$/m);
  const login = await page(kg.base, '/login');
  assert.equal(login.status, 503);
  assert.match(login.text, /session store cannot be reached/);
  assert.match(login.text, /temporarily_unavailable/);
}

describe('Redis faults, fail closed', () => {
  let redis: TestRedis;
  let setup: SharedSetup;
  let kg: Instance;
  const timings: Record<string, number> = {};

  before(async () => {
    redis = await TestRedis.start();
    setup = await sharedSetup(2);
    kg = await setup.startInstance(0, redis.url);
  });
  after(async () => {
    await kg?.close();
    await setup?.idp.close();
    await redis?.stop();
    process.stdout.write(`redis fault timings (ms): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}\n`);
  });

  it('stopped: 503 at once, /readyz 503, /login error page; restarted empty: back within 5 s, the lost session answers 401', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    assert.equal((await callProtected(kg.base, token)).status, 200);
    assert.equal((await callProtected(kg.base, token)).status, 200, 'cached now');

    const stoppedAt = performance.now();
    await redis.stop();
    const down = await watchUntil(kg.base, token, 503, stoppedAt, DETECT_MS, [200, 503]);
    timings.stopped_detect = down.after;
    const more = await watchUntil(kg.base, token, 503, stoppedAt, DETECT_MS, [503]);
    assertNoFlapping([...down.statuses, ...more.statuses]);
    await assertDownPages(kg);

    const startedAt = performance.now();
    await redis.start(); // no persistence: Redis comes back empty
    const back = await watchUntil(kg.base, token, 401, startedAt, RECOVER_MS, [503, 401]);
    timings.stopped_recover = back.after;
    const answer = await callProtected(kg.base, token);
    assert.deepEqual([answer.status, answer.error], [401, 'invalid_token']);
    assert.equal((await fetch(new URL('/readyz', kg.base))).status, 200);
    // And a new login works again.
    const again = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    assert.equal((await callProtected(kg.base, again.token)).status, 200);
  });

  it('frozen (SIGSTOP): 503 within 2 s, no request hangs; thawed: the same token works again within 5 s', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'bob@example.com', 'bob');
    assert.equal((await callProtected(kg.base, token)).status, 200);
    assert.equal((await callProtected(kg.base, token)).status, 200);

    const frozenAt = performance.now();
    redis.freeze();
    try {
      const down = await watchUntil(kg.base, token, 503, frozenAt, DETECT_MS, [200, 503]);
      timings.frozen_detect = down.after;
      const more = await watchUntil(kg.base, token, 503, frozenAt, DETECT_MS + ANSWER_MS, [503]);
      assertNoFlapping([...down.statuses, ...more.statuses]);
      await assertDownPages(kg);
    } finally {
      redis.thaw();
    }
    const thawedAt = performance.now();
    const back = await watchUntil(kg.base, token, 200, thawedAt, RECOVER_MS, [503, 200]);
    timings.frozen_recover = back.after;
    assert.equal((await fetch(new URL('/readyz', kg.base))).status, 200);
  });

  it('unreachable (nothing listens on the port): Keygate starts, answers 503, /readyz 503, /login error page', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    const nowhere = await setup.startInstance(1, `redis://127.0.0.1:${await freePort()}`);
    try {
      const answer = await callProtected(nowhere.base, token);
      assert.deepEqual([answer.status, answer.error], [503, 'temporarily_unavailable']);
      assert.ok(answer.ms < ANSWER_MS);
      await assertDownPages(nowhere);
    } finally {
      await nowhere.close();
    }
  });

  it('silent invalidation channel, Redis still answering: a logout on A is honoured on B within one heartbeat, never a 503', async () => {
    // B's commands go straight to Redis; its subscriber goes through a proxy that stops carrying anything.
    const proxy = await TcpProxy.start(redis.port);
    const store = await RedisStore.open({
      client: createRedisClient({ url: redis.url }),
      subscriber: createRedisClient({ url: `redis://127.0.0.1:${proxy.port}` }),
      secretKeys: [SECRET_KEY],
    });
    const b = await setup.startInstance(1, redis.url, {}, store);
    try {
      const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
      assert.equal((await callProtected(b.base, token)).status, 200);
      assert.equal((await callProtected(b.base, token)).status, 200, 'cached on B now');
      proxy.hold();
      const loggedOutAt = performance.now();
      assert.equal((await logoutWithToken(kg.base, token)).status, 200);
      const honoured = await watchUntil(b.base, token, 401, loggedOutAt, HEARTBEAT_MS + 250, [200, 401]);
      timings.silent_channel_logout = honoured.after;
      assert.ok(!honoured.statuses.slice(honoured.statuses.indexOf(401)).includes(200));
      assert.equal((await callProtected(b.base, token)).status, 401, 'and stays honoured');
    } finally {
      proxy.release();
      await b.close();
      await proxy.close();
    }
  });
});
