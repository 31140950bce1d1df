import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { Agent, findForm } from '../helpers/agent.js';
import { loginAs, startDevKeygate, type TestKeygate } from '../helpers/keygate.js';

async function callProtected(base: URL, token: string) {
  const response = await fetch(new URL('/protected', base), { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, challenge: response.headers.get('www-authenticate') };
}

describe('the whole demo flow against the embedded oidc-provider, over HTTP', () => {
  let kg: TestKeygate;
  before(async () => {
    kg = await startDevKeygate();
  });
  after(async () => kg.close());

  it('logs in, shows the key, answers /protected, and logout makes the still-valid token fail at once', async () => {
    const agent = new Agent();
    const { token, html } = await loginAs(agent, kg.base, 'alice@example.com', 'alice');
    assert.match(html, /alice@example\.com/);
    const claims = jose.decodeJwt(token);
    assert.equal(claims.email, 'alice@example.com');
    assert.equal(claims.aud, 'keygate-dev');
    // No token or code ever travelled in a URL Keygate built or was sent to.
    for (const hop of agent.hops) {
      assert.ok(!hop.url.includes(token) && !(hop.location ?? '').includes(token), `token in URL ${hop.url}`);
      if (hop.location?.startsWith(kg.base.origin) && new URL(hop.location).pathname !== '/callback') {
        assert.ok(!new URL(hop.location).searchParams.has('code'), `code in ${hop.location}`);
      }
    }

    const home = await agent.request(new URL('/', kg.base));
    assert.equal(home.status, 302, 'signed in: / goes on to the key page');
    assert.equal(home.headers.get('location'), '/key');

    const ok = await callProtected(kg.base, token);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.email, 'alice@example.com');
    assert.equal(ok.body.sub, claims.sub);
    assert.equal(ok.body.exp, claims.exp);

    // Log out with the key page's button (a same-origin form post with the session cookie).
    const logout = await agent.request(new URL('/logout', kg.base), {
      method: 'POST',
      headers: { 'sec-fetch-site': 'same-origin', origin: 'null', accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.equal(logout.status, 303);
    const endSession = new URL(logout.headers.get('location')!);
    assert.equal(endSession.origin + endSession.pathname, `${kg.base.origin}/idp/session/end`);
    assert.ok(endSession.searchParams.get('id_token_hint'), 'RP-initiated logout carries id_token_hint');
    assert.equal(endSession.searchParams.get('post_logout_redirect_uri'), `${kg.base.origin}/`);

    const rejected = await callProtected(kg.base, token);
    assert.equal(rejected.status, 401);
    assert.equal(rejected.body.error, 'invalid_token');
    assert.match(String(rejected.body.error_description), /login .* has ended/);
    assert.match(rejected.challenge!, /^Bearer error="invalid_token", error_description="[^"]+"$/);
    assert.ok(jose.decodeJwt(token).exp! * 1000 > Date.now(), 'the token itself is still valid');

    // The provider's logout confirmation, then back to Keygate's login page.
    let { response, url } = await agent.follow(endSession);
    const page = await response.text();
    assert.doesNotMatch(page, /<script/i);
    const confirm = findForm(page, '/session/end', url);
    ({ response, url } = await agent.submit(confirm.action, { ...confirm.fields, logout: 'yes' }));
    assert.equal(url.href, `${kg.base.origin}/`);
    assert.match(await response.text(), />Log in</);

    const key = await agent.request(new URL('/key', kg.base));
    assert.equal(key.status, 302);
    assert.equal(key.headers.get('location'), '/');
  });

  it('logging in again issues a new token; the old one stays dead', async () => {
    const agent = new Agent();
    const first = await loginAs(agent, kg.base, 'bob@example.com', 'bob');
    await agent.request(new URL('/logout', kg.base), { method: 'POST', headers: { 'sec-fetch-site': 'same-origin', accept: 'application/json' } });
    const second = await loginAs(agent, kg.base, 'bob@example.com', 'bob');
    assert.notEqual(first.token, second.token);
    assert.equal((await callProtected(kg.base, first.token)).status, 401);
    assert.equal((await callProtected(kg.base, second.token)).status, 200);
  });

  it('a cross-site request cannot log anyone out', async () => {
    const agent = new Agent();
    const { token } = await loginAs(agent, kg.base, 'alice@example.com', 'alice');
    const attempts: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'https://evil.example' },
      { origin: 'null' },
    ];
    for (const headers of attempts) {
      const response = await agent.request(new URL('/logout', kg.base), { method: 'POST', headers: { ...headers, accept: 'text/html' } });
      assert.equal(response.status, 403, JSON.stringify(headers));
      assert.match(await response.text(), /cross_site_request/);
    }
    assert.equal((await callProtected(kg.base, token)).status, 200);
    // GET /logout with only the cookie asks for confirmation and changes nothing.
    const get = await agent.request(new URL('/logout', kg.base));
    assert.equal(get.status, 200);
    assert.match(await get.text(), /<button[^>]*type="submit"[^>]*>Log out<\/button>/);
    assert.equal((await callProtected(kg.base, token)).status, 200);
  });

  it('an API client logs out with its bearer token (POST and GET), idempotently', async () => {
    for (const method of ['POST', 'GET']) {
      const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
      const first = await fetch(new URL('/logout', kg.base), { method, headers: { authorization: `Bearer ${token}` } });
      assert.equal(first.status, 200);
      assert.deepEqual(await first.json(), { status: 'logged_out', ended: true });
      assert.equal((await callProtected(kg.base, token)).status, 401);
      const again = await fetch(new URL('/logout', kg.base), { method, headers: { authorization: `Bearer ${token}` } });
      assert.equal(again.status, 200);
      assert.deepEqual(await again.json(), { status: 'logged_out', ended: false });
    }
  });

  it('two logins of one user are independent: logging out one leaves the other alive', async () => {
    const a = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    const b = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    await fetch(new URL('/logout', kg.base), { method: 'POST', headers: { authorization: `Bearer ${a.token}` } });
    assert.equal((await callProtected(kg.base, a.token)).status, 401);
    assert.equal((await callProtected(kg.base, b.token)).status, 200);
  });

  it('returnTo brings the user back to a same-origin path only', async () => {
    const good = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice', '/login?returnTo=%2Fkey%3Ftab%3Dcurl');
    assert.equal(good.keyUrl.pathname + good.keyUrl.search, '/key?tab=curl');
    const evil = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice', '/login?returnTo=%2F%2Fevil.example%2Fx');
    assert.equal(evil.keyUrl.href, `${kg.base.origin}/key`);
  });
});

describe('configuration variants of the flow', () => {
  it('ALLOWED_USERS keeps others out with a 403 page and no session', async () => {
    const kg = await startDevKeygate({ ALLOWED_USERS: 'alice@example.com' });
    try {
      await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
      const agent = new Agent();
      await assert.rejects(loginAs(agent, kg.base, 'bob@example.com', 'bob'), /ended at .*\/callback.* with 403/s);
      assert.equal(agent.cookie(kg.base.host, 'keygate_session'), undefined);
      assert.deepEqual(await kg.store.stats(), { sessions: 1, revoked: 0 });
    } finally {
      await kg.close();
    }
  });

  it('AUDIENCE makes the API token a JWT access token for that API', async () => {
    const kg = await startDevKeygate({ AUDIENCE: 'https://api.example.test' });
    try {
      const { token, html } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
      assert.match(html, /access token/);
      const header = jose.decodeProtectedHeader(token);
      const claims = jose.decodeJwt(token);
      assert.equal(header.typ, 'at+jwt');
      assert.equal(claims.aud, 'https://api.example.test');
      const ok = await callProtected(kg.base, token);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.email, 'alice@example.com');
    } finally {
      await kg.close();
    }
  });

  it('REQUIRE_SESSION=false accepts any valid token until it is revoked by logout', async () => {
    const kg = await startDevKeygate({ REQUIRE_SESSION: 'false' });
    try {
      const agent = new Agent();
      const { token } = await loginAs(agent, kg.base, 'alice@example.com', 'alice');
      const ok = await callProtected(kg.base, token);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.email, 'alice@example.com');
      await agent.request(new URL('/logout', kg.base), { method: 'POST', headers: { 'sec-fetch-site': 'same-origin', accept: 'application/json' } });
      const revoked = await callProtected(kg.base, token);
      assert.equal(revoked.status, 401);
      assert.match(String(revoked.body.error_description), /revoked/);
    } finally {
      await kg.close();
    }
  });
});
