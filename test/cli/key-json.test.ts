/** `GET /key.json`, the JSON twin of the key page that `keygate token` reads (docs/security.md, DV cases). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { buildApp } from '../../src/http/app.js';
import { MemoryStore } from '../../src/session/memory.js';
import { Agent } from '../helpers/agent.js';
import { loginAs, startDevKeygate, type TestKeygate } from '../helpers/keygate.js';

describe('GET /key.json', () => {
  let kg: TestKeygate;
  let agent: Agent;
  let token: string;
  before(async () => {
    kg = await startDevKeygate();
    agent = new Agent();
    ({ token } = await loginAs(agent, kg.base, 'alice@example.com', 'alice'));
  });
  after(() => kg?.close());

  it('DV-01 a request a browser marks as cross-site, or from a foreign Origin, gets no token', async () => {
    const variants: Record<string, string>[] = [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'https://evil.example' }];
    for (const headers of variants) {
      const response = await agent.request(new URL('/key.json', kg.base), { headers });
      const text = await response.text();
      assert.equal(response.status, 403, JSON.stringify(headers));
      assert.equal(JSON.parse(text).error, 'cross_site_request');
      assert.ok(!text.includes(token));
    }
  });

  it('DV-02 the live session\'s token, not cached; without a session, 401 login_required', async () => {
    const response = await agent.request(new URL('/key.json', kg.base), { headers: { 'sec-fetch-site': 'same-origin' } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['expires_at', 'token', 'token_kind']);
    assert.equal(body['token'], token);
    assert.equal(body['token_kind'], 'id_token');

    const anonymous = await fetch(new URL('/key.json', kg.base));
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { error: string }).error, 'login_required');
  });

  it('DV-03 outside development mode the route does not exist', async () => {
    const config = loadConfig({
      ISSUER_URL: 'https://idp.example.com/', CLIENT_ID: 'app', CLIENT_SECRET: 'app-secret-0123456789abcdef0123456789',
      SECRET_KEY: 'key-json-secret-key-0123456789abcdefghij', LOG_LEVEL: 'silent',
    });
    const app = await buildApp(config, { store: new MemoryStore({ maxEntries: 100 }), logger: false });
    try {
      const response = await app.inject({ url: '/key.json' });
      assert.equal(response.statusCode, 404);
      assert.equal(response.json().error, 'not_found');
    } finally {
      await app.close();
    }
  });
});
