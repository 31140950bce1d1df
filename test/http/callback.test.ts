import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from '../helpers/agent.js';
import { Cookies } from '../../src/http/cookies.js';
import { startDevKeygate, textOf, type TestKeygate } from '../helpers/keygate.js';

/** Starts a login in `agent` and returns the state the provider would send back. */
async function beginLogin(agent: Agent, kg: TestKeygate): Promise<{ state: string; iss: string }> {
  const response = await agent.request(new URL('/login', kg.base));
  assert.equal(response.status, 302);
  const location = new URL(response.headers.get('location')!);
  assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(location.searchParams.get('nonce'));
  return { state: location.searchParams.get('state')!, iss: kg.config.issuerUrl };
}

async function callback(agent: Agent, kg: TestKeygate, query: string) {
  const response = await agent.request(new URL(`/callback${query}`, kg.base), { headers: { accept: 'text/html' } });
  const html = await response.text();
  return { status: response.status, html, text: textOf(html), setCookie: response.headers.getSetCookie() };
}

describe('/callback answers malformed and hostile input with a 4xx page and no session', () => {
  let kg: TestKeygate;
  before(async () => {
    kg = await startDevKeygate();
  });
  after(async () => kg.close());

  const noSession = async () => assert.equal((await kg.store.stats()).sessions, 0);

  it('without a login in progress (no transaction cookie)', async () => {
    const r = await callback(new Agent(), kg, '?code=abc&state=xyz');
    assert.equal(r.status, 400);
    assert.match(r.text, /login_expired/);
    await noSession();
  });

  it('with a garbage or forged transaction cookie under the name of the state', async () => {
    const name = new Cookies({ secure: false }).transactionName('xyz');
    for (const value of ['garbage', 'a.b.c.d.e', 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC', '%ff%fe', 'x'.repeat(5000)]) {
      const r = await new Agent().request(new URL('/callback?code=abc&state=xyz', kg.base), { headers: { cookie: `${name}=${value}`, accept: 'text/html' } });
      assert.equal(r.status, 400, value.slice(0, 20));
      assert.match(textOf(await r.text()), /login_expired/);
    }
    await noSession();
  });

  it('with state missing, wrong, or repeated', async () => {
    for (const [make, code] of [
      [() => '?code=abc', /invalid_request/],
      // No login in this browser has that state.
      [() => '?code=abc&state=wrong', /login_expired/],
      [(s: string) => `?code=abc&state=${s}&state=${s}`, /invalid_request/],
      [(s: string) => `?code=abc&code=def&state=${s}`, /invalid_request/],
    ] as const) {
      const agent = new Agent();
      const { state } = await beginLogin(agent, kg);
      const r = await callback(agent, kg, make(state));
      assert.equal(r.status, 400, make(state));
      assert.match(r.text, code);
    }
    await noSession();
  });

  it('a transaction is single-use: the cookie is cleared by the first callback', async () => {
    const agent = new Agent();
    const { state } = await beginLogin(agent, kg);
    const first = await callback(agent, kg, `?code=garbage&state=${state}`);
    assert.equal(first.status, 400);
    assert.ok(first.setCookie.some((c) => /^keygate_tx_[\w-]{22}=;/.test(c)), 'transaction cookie cleared');
    const second = await callback(agent, kg, `?code=garbage&state=${state}`);
    assert.equal(second.status, 400);
    assert.match(second.text, /login_expired/);
  });

  it('with a garbage authorization code: 400 invalid_grant', async () => {
    const agent = new Agent();
    const { state, iss } = await beginLogin(agent, kg);
    const r = await callback(agent, kg, `?code=${'A'.repeat(43)}&state=${state}&iss=${encodeURIComponent(iss)}`);
    assert.equal(r.status, 400);
    assert.match(r.text, /invalid_grant/);
    await noSession();
  });

  it('with the provider\'s error answer, shown escaped', async () => {
    const agent = new Agent();
    const { state, iss } = await beginLogin(agent, kg);
    const hostile = '<script>alert(1)</script>"\'><img src=x onerror=alert(1)>';
    const r = await callback(agent, kg, `?error=access_denied&error_description=${encodeURIComponent(hostile)}&state=${state}&iss=${encodeURIComponent(iss)}`);
    assert.equal(r.status, 403);
    assert.match(r.text, /access_denied/);
    assert.ok(!r.html.includes('<script>alert'), 'not raw');
    assert.ok(!r.html.includes('<img src=x'), 'not raw');
    assert.ok(r.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    await noSession();
  });

  it('with a wrong or missing RFC 9207 iss', async () => {
    for (const iss of ['&iss=https%3A%2F%2Fevil.example', '']) {
      const agent = new Agent();
      const { state } = await beginLogin(agent, kg);
      const r = await callback(agent, kg, `?code=abc&state=${state}${iss}`);
      assert.equal(r.status, 400, iss);
      assert.match(r.text, /invalid_issuer/);
    }
    await noSession();
  });

  it('with implicit-flow tokens in the query', async () => {
    const agent = new Agent();
    const { state } = await beginLogin(agent, kg);
    const r = await callback(agent, kg, `?code=abc&state=${state}&id_token=x.y.z`);
    assert.equal(r.status, 400);
    await noSession();
  });

  it('with garbage session cookies everywhere, pages still answer', async () => {
    for (const cookie of ['keygate_session=garbage', 'keygate_session=%zz', `keygate_session=${'a'.repeat(3000)}`, 'keygate_session=abc.def; keygate_session=x']) {
      for (const path of ['/', '/key', '/logout']) {
        const r = await fetch(new URL(path, kg.base), { headers: { cookie, accept: 'text/html' }, redirect: 'manual' });
        assert.ok(r.status < 500, `${path} ${cookie.slice(0, 30)} → ${r.status}`);
        await r.arrayBuffer();
      }
    }
  });
});
