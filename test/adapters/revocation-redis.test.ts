/**
 * Revocation reaches the user's own API over a shared Redis: Keygate (dev mode) stores its logins in a real
 * redis-server; a Fastify API and an Express API each open their OWN RedisStore on the same Redis, built from the same
 * configuration (REDIS_URL, SECRET_KEY), as separate processes would. A token from a real login works in both;
 * logout through Keygate makes both answer 401.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KeygateOptions, SessionStore } from '../../src/index.js';
import { createStore } from '../../src/server.js';
import { Agent } from '../helpers/agent.js';
import { loginAs, startDevKeygate } from '../helpers/keygate.js';
import { TestRedis } from '../helpers/redis.js';
import { startExpressApi, startFastifyApi } from './apis.js';
import type { RunningApi } from './table.js';

const MODES: Array<{ name: string; env: Record<string, string>; requireSession: boolean; description: string }> = [
  {
    name: 'REQUIRE_SESSION=true',
    env: {},
    requireSession: true,
    description: 'The login that issued this token has ended (logged out or expired). Please log in again.',
  },
  {
    name: 'REQUIRE_SESSION=false',
    env: { REQUIRE_SESSION: 'false' },
    requireSession: false,
    description: 'This token has been revoked (the user logged out). Please log in again.',
  },
];

/** Calls until the answer is `status` or `ms` pass (the stores' local caches learn of a logout through pub/sub). */
async function until(url: string, token: string, status: number, ms = 5_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const response = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } });
    const answer = { status: response.status, challenge: response.headers.get('www-authenticate'), body: (await response.json()) as Record<string, unknown> };
    if (answer.status === status || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('logout through Keygate reaches a Fastify API and an Express API sharing its Redis', () => {
  for (const mode of MODES) {
    it(mode.name, async (t) => {
      const redis = await TestRedis.start();
      t.after(() => redis.stop());
      const kg = await startDevKeygate({ REDIS_URL: redis.url, SECRET_KEY: 'redis-shared-secret-key-0123456789abcdef', ...mode.env });
      t.after(() => kg.close());

      const stores: SessionStore[] = [];
      const apis: RunningApi[] = [];
      for (const start of [startFastifyApi, startExpressApi]) {
        // Each API opens its own store from the configuration it shares with Keygate.
        const store = await createStore(kg.config);
        stores.push(store);
        const options: KeygateOptions = {
          issuer: kg.config.issuerUrl,
          audience: kg.config.clientId,
          authorizedParty: kg.config.clientId,
          store,
          requireSession: mode.requireSession,
        };
        apis.push(await start(options));
      }
      t.after(async () => {
        for (const api of apis) await api.close();
        for (const store of stores) await store.close();
      });
      assert.notEqual(stores[0], kg.store);

      const agent = new Agent();
      const { token } = await loginAs(agent, kg.base, 'alice@example.com', 'alice');
      for (const api of apis) {
        const answer = await until(api.url, token, 200, 0);
        assert.equal(answer.status, 200, `${api.url}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.email, 'alice@example.com');
      }

      const logout = await agent.request(new URL('/logout', kg.base), { method: 'POST', headers: { 'sec-fetch-site': 'same-origin', accept: 'application/json' } });
      assert.equal(logout.status, 200, await logout.text());

      const expected = {
        status: 401,
        challenge: `Bearer error="invalid_token", error_description="${mode.description}"`,
        body: { error: 'invalid_token', error_description: mode.description },
      };
      for (const api of apis) assert.deepEqual(await until(api.url, token, 401), expected);
    });
  }
});
