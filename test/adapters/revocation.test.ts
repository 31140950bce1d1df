/**
 * Revocation reaches the user's own API: Keygate (dev mode, real embedded provider) and two user APIs — one on
 * Fastify, one on Express — in one process, sharing Keygate's MemoryStore instance. A token from a real login works
 * in both; logout through Keygate makes both answer 401 at once, although the JWT itself is still valid.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKeygate, type KeygateOptions } from '../../src/index.js';
import { Agent } from '../helpers/agent.js';
import { loginAs, startDevKeygate } from '../helpers/keygate.js';
import { startExpressApi, startFastifyApi } from './apis.js';

const MODES: Array<{ name: string; env: Record<string, string>; requireSession: boolean; description: string }> = [
  {
    name: 'REQUIRE_SESSION=true: the APIs accept the token only while its Keygate login lives',
    env: {},
    requireSession: true,
    description: 'The login that issued this token has ended (logged out or expired). Please log in again.',
  },
  {
    name: 'REQUIRE_SESSION=false: the APIs accept any valid token until Keygate revokes it',
    env: { REQUIRE_SESSION: 'false' },
    requireSession: false,
    description: 'This token has been revoked (the user logged out). Please log in again.',
  },
];

describe('logout through Keygate reaches a Fastify API and an Express API sharing its store', () => {
  for (const mode of MODES) {
    it(mode.name, async (t) => {
      const kg = await startDevKeygate(mode.env);
      t.after(() => kg.close());
      const options: KeygateOptions = {
        issuer: kg.config.issuerUrl,
        // Dev mode without AUDIENCE: the API token is the ID token, issued to Keygate's client.
        audience: kg.config.clientId,
        authorizedParty: kg.config.clientId,
        store: kg.store,
        requireSession: mode.requireSession,
      };
      const apis = [await startFastifyApi(options), await startExpressApi(options)];
      t.after(async () => {
        for (const api of apis) await api.close();
      });

      const agent = new Agent();
      const { token } = await loginAs(agent, kg.base, 'alice@example.com', 'alice');
      const call = (url: string) => fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } });

      for (const api of apis) {
        const response = await call(api.url);
        assert.equal(response.status, 200, api.url);
        const body = (await response.json()) as Record<string, unknown>;
        assert.equal(body.email, 'alice@example.com');
        assert.equal(body.iss, kg.config.issuerUrl);
      }

      // request.auth carries no secret of the login: no raw token, no session id (a cookie), no refresh token.
      const auth = await createKeygate(options).authorize(token);
      const sessionId = agent.cookie(kg.base.host, kg.config.secure ? '__Host-keygate_session' : 'keygate_session');
      assert.ok(sessionId, `session cookie: ${JSON.stringify([...(agent.jar.get(kg.base.host) ?? new Map()).keys()])}`);
      const shown = JSON.stringify(auth);
      assert.ok(!shown.includes(token) && !shown.includes(sessionId!.split('.')[0]!), 'no raw token or session id in request.auth');
      if (mode.requireSession) assert.deepEqual(Object.keys(auth.session!).sort(), ['createdAt', 'expiresAt', 'tokenKind']);
      else assert.equal(auth.session, undefined);

      const logout = await agent.request(new URL('/logout', kg.base), { method: 'POST', headers: { 'sec-fetch-site': 'same-origin', accept: 'application/json' } });
      assert.equal(logout.status, 200, await logout.text());

      const answers = [];
      for (const api of apis) {
        const response = await call(api.url);
        answers.push({ status: response.status, challenge: response.headers.get('www-authenticate'), body: await response.json() });
      }
      const expected = {
        status: 401,
        challenge: `Bearer error="invalid_token", error_description="${mode.description}"`,
        body: { error: 'invalid_token', error_description: mode.description },
      };
      assert.deepEqual(answers, [expected, expected]);
      // Keygate's own API agrees.
      assert.equal((await fetch(new URL('/protected', kg.base), { headers: { authorization: `Bearer ${token}` } })).status, 401);
    });
  }
});
