import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { startEcho, type EchoServer } from '../helpers/echo.js';
import type { TestKeygate } from '../helpers/keygate.js';
import { freePort } from '../helpers/net.js';
import { Agent } from '../helpers/agent.js';
import { throughProvider } from '../helpers/keygate.js';
import { send, startProxy } from './helpers.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

describe('UPSTREAM and UPSTREAM_TIMEOUT_MS', () => {
  it('an http or https origin is accepted; unset means no proxy; the timeout defaults to 30 s', () => {
    assert.equal(loadConfig({}).upstream, undefined);
    assert.equal(loadConfig({}).upstreamTimeoutMs, 30_000);
    assert.equal(loadConfig({ UPSTREAM: 'http://127.0.0.1:8000' }).upstream?.href, 'http://127.0.0.1:8000/');
    assert.equal(loadConfig({ UPSTREAM: 'https://api.internal/' }).upstream?.href, 'https://api.internal/');
    assert.equal(loadConfig({ UPSTREAM_TIMEOUT_MS: '2500' }).upstreamTimeoutMs, 2500);
  });

  it('a path, query, credentials, another scheme, no scheme or Keygate\'s own origin are refused, each named, all at once', () => {
    const cases: Array<[string, RegExp]> = [
      ['http://127.0.0.1:8000/api', /without a path/],
      ['http://127.0.0.1:8000/?x=1', /without a path, query/],
      ['http://user:pw@127.0.0.1:8000', /credentials/],
      ['ftp://127.0.0.1', /http:\/\/ or https:\/\//],
      ['127.0.0.1:8000', /not a URL|http:\/\/ or https:\/\//],
      ['http://localhost:5000', /Keygate's own origin/],
    ];
    for (const [value, reason] of cases) {
      const problems = problemsOf({ UPSTREAM: value });
      assert.equal(problems.length, 1, `${value}: ${problems.join('; ')}`);
      assert.match(problems[0]!, /^UPSTREAM: /);
      assert.match(problems[0]!, reason, value);
    }
    const both = problemsOf({ UPSTREAM: 'http://x:1/p', UPSTREAM_TIMEOUT_MS: 'soon' });
    assert.equal(both.length, 2);
    assert.ok(both.some((p) => p.startsWith('UPSTREAM_TIMEOUT_MS: ')));
  });
});

describe('reverse-proxy mode with a path in BASE_URL', () => {
  let echo: EchoServer;
  let kg: TestKeygate & { cleanup(): Promise<void> };

  before(async () => {
    echo = await startEcho();
    const port = await freePort();
    kg = await startProxy(`http://${echo.address}`, [], { PORT: String(port), BASE_URL: `http://127.0.0.1:${port}/keygate` });
  });
  after(async () => {
    await kg?.cleanup();
    await echo?.close();
  });

  it('Keygate lives under /keygate, the application gets everything else, / included; a login there lets the browser in', async () => {
    const base = new URL(kg.url);
    const navigation = await send(base, '/', { accept: 'text/html' });
    assert.equal(navigation.status, 302);
    const location = new URL(String(navigation.headers.location), base);
    assert.equal(location.pathname, '/keygate/login');
    assert.equal(location.searchParams.get('returnTo'), '/');
    assert.equal((await send(base, '/keygate/healthz')).status, 200);
    const before = echo.requests.length;
    assert.equal((await send(base, '/login', { accept: 'application/json' })).status, 401, 'the application\'s /login is behind the decision');
    assert.equal(echo.requests.length, before);

    // The browser follows the redirect through the provider and comes back to the application's page.
    const agent = new Agent();
    const { response, url, html } = await throughProvider(agent, location, 'alice@example.com', 'alice');
    assert.equal(url.href, new URL('/', base).href, `ended at ${url.href}`);
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(html), { upstream: true, url: '/' });
    assert.equal(echo.last().headers['x-auth-request-email'], 'alice@example.com');
  });
});
