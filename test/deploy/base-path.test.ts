/**
 * Keygate with a path in its BASE_URL (http://127.0.0.1:<port>/keygate) behind nginx and Caddy, the files in
 * deploy/ given that path (KEYGATE_PATH): the checks, the refusals and the browser's login round trip all go
 * through /keygate/auth.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { loadConfig } from '../../src/config/index.js';
import { startKeygate, type RunningKeygate } from '../../src/server.js';
import { headerValues, startEcho, type EchoServer } from '../helpers/echo.js';
import { loginThroughProxy, startCaddy, startNginx, type RunningProxy } from '../helpers/edge-proxy.js';
import { freePort } from '../helpers/net.js';

describe('nginx and Caddy in front of a Keygate whose BASE_URL has a path', () => {
  let base: URL;
  let kg: RunningKeygate | undefined;
  let upstream: EchoServer;
  const proxies: RunningProxy[] = [];

  before(async () => {
    const port = await freePort();
    base = new URL(`http://127.0.0.1:${port}/keygate`);
    kg = await startKeygate(loadConfig({ HOST: '127.0.0.1', PORT: String(port), BASE_URL: base.href, ALLOWED_REDIRECT_HOSTS: '127.0.0.1', TRUST_PROXY: '127.0.0.1', LOG_LEVEL: 'silent' }), { logger: false });
    upstream = await startEcho();
    const targets = { keygate: base.host, keygatePath: '/keygate', upstream: upstream.address };
    proxies.push(await startNginx(targets), await startCaddy(targets));
  });
  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await kg?.close();
    await upstream?.close();
  });

  it('a browser is sent to /keygate/login, comes back with a session, and the upstream verifies its assertion', async () => {
    const jwks = jose.createRemoteJWKSet(new URL(`${base.href}/.well-known/jwks.json`));
    for (const proxy of proxies) {
      const start = new URL('/orders?id=1', proxy.origin);
      const { login, response, url } = await loginThroughProxy(start, base.host, 'alice@example.com', 'alice');
      assert.equal(`${login.origin}${login.pathname}`, `${base.href}/login`, proxy.name);
      assert.equal(url.href, start.href, proxy.name);
      assert.equal(response.status, 200, proxy.name);
      const seen = upstream.last();
      const assertion = headerValues(seen.rawHeaders, 'x-keygate-assertion')[0] ?? '';
      const { payload } = await jose.jwtVerify(assertion, jwks, { issuer: base.href, audience: proxy.origin, algorithms: ['ES256'] });
      assert.equal(payload.email, 'alice@example.com', proxy.name);
    }
  });

  it('an API call without credentials gets Keygate\'s 401 from /keygate/auth, and nothing reaches the upstream', async () => {
    for (const proxy of proxies) {
      const before = upstream.requests.length;
      const response = await fetch(new URL('/orders', proxy.origin), { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
      const body = (await response.json()) as { error?: string };
      assert.equal(response.status, 401, proxy.name);
      assert.equal(typeof body.error, 'string', proxy.name);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/, proxy.name);
      assert.equal(upstream.requests.length, before, proxy.name);
    }
  });
});
