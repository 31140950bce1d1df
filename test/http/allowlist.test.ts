import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { startDevIdp, type RunningDevIdp } from '../../src/dev-idp/index.js';
import { startKeygate } from '../../src/server.js';
import { MemoryStore } from '../../src/session/memory.js';
import { Agent } from '../helpers/agent.js';
import { loginAs } from '../helpers/keygate.js';
import { freePort } from '../helpers/net.js';

const SECRET = 'test-client-secret-that-is-long-enough-0123456789';

describe('ALLOWED_USERS is applied on every request, not only at login', () => {
  let idp: RunningDevIdp;
  let port: number;
  const store = new MemoryStore({ maxEntries: 100, sweepIntervalMs: 0 });

  before(async () => {
    port = await freePort();
    idp = await startDevIdp({
      clients: [{ clientId: 'keygate-test', clientSecret: SECRET, redirectUris: [`http://127.0.0.1:${port}/callback`], postLogoutRedirectUris: [`http://127.0.0.1:${port}/`] }],
      users: [
        { email: 'alice@example.com', password: 'alice', name: 'Alice' },
        { email: 'bob@example.com', password: 'bob', name: 'Bob' },
      ],
      cookieKeys: ['idp-cookie-key-0123456789'],
    });
  });
  after(async () => {
    await idp.close();
    await store.close();
  });

  const start = (allowed: string) =>
    startKeygate(
      loadConfig({
        HOST: '127.0.0.1',
        PORT: String(port),
        ISSUER_URL: idp.issuer,
        CLIENT_ID: 'keygate-test',
        CLIENT_SECRET: SECRET,
        SECRET_KEY: 's'.repeat(40),
        ALLOWED_USERS: allowed,
        LOG_LEVEL: 'silent',
      }),
      { logger: false, store },
    );

  it('removing a user and restarting locks them out although their session lives on', async () => {
    const first = await start('alice@example.com, @example.com');
    const base = new URL(`http://127.0.0.1:${port}`);
    const { token } = await loginAs(new Agent(), base, 'alice@example.com', 'alice');
    assert.equal((await fetch(new URL('/protected', base), { headers: { authorization: `Bearer ${token}` } })).status, 200);
    await first.app.close(); // the store (shared) keeps the session

    const second = await start('bob@example.com');
    try {
      assert.equal((await store.stats()).sessions, 1, 'the session is still alive');
      // A fresh connection: the pooled keep-alive socket belonged to the instance that was shut down.
      const response = await fetch(new URL('/protected', base), { headers: { authorization: `Bearer ${token}` } }).catch(() =>
        fetch(new URL('/protected', base), { headers: { authorization: `Bearer ${token}` } }),
      );
      assert.equal(response.status, 403);
      const body = (await response.json()) as { error: string; error_description: string };
      assert.equal(body.error, 'access_denied');
      assert.match(body.error_description, /alice@example\.com/);
      assert.match(response.headers.get('www-authenticate')!, /^Bearer error="access_denied"/);
    } finally {
      await second.app.close();
    }
  });
});
