import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { Agent, findForm } from '../helpers/agent.js';
import { loginAs, protectedStatus, startDevKeygate, type TestKeygate } from '../helpers/keygate.js';

/** Ends the provider session only (not Keygate's): the provider then calls Keygate's back-channel logout. */
async function logoutAtProvider(agent: Agent, base: URL): Promise<void> {
  const { response, url } = await agent.follow(new URL('/idp/session/end', base));
  const html = await response.text();
  const form = findForm(html, '/session/end/confirm', url);
  const done = await agent.submit(form.action, { ...form.fields, logout: 'yes' });
  assert.ok(done.response.status < 400, `provider logout answered ${done.response.status}`);
  await done.response.arrayBuffer();
}

async function postLogoutToken(base: URL, body: string, type = 'application/x-www-form-urlencoded') {
  const response = await fetch(new URL('/backchannel-logout', base), { method: 'POST', headers: { 'content-type': type }, body });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined, cacheControl: response.headers.get('cache-control') };
}

describe('back-channel logout (OpenID Connect Back-Channel Logout 1.0) with the embedded oidc-provider', () => {
  let kg: TestKeygate;
  before(async () => {
    kg = await startDevKeygate();
  });
  after(async () => kg.close());

  it('BC-09 a logout at the provider ends that login in Keygate: its token is refused at once', async () => {
    const agent = new Agent();
    const { token } = await loginAs(agent, kg.base, 'alice@example.com', 'alice');
    assert.equal(typeof jose.decodeJwt(token).sid, 'string', 'the ID token names the provider session');
    assert.equal(await protectedStatus(kg.base, token), 200);
    const before = (await kg.store.stats()).sessions;
    await logoutAtProvider(agent, kg.base);
    assert.equal(await protectedStatus(kg.base, token), 401);
    assert.equal((await kg.store.stats()).sessions, before - 1);
  });

  it('BC-10 only the logins under that provider session end: the same user in another browser stays in', async () => {
    const first = new Agent();
    const second = new Agent();
    const a = await loginAs(first, kg.base, 'bob@example.com', 'bob');
    const b = await loginAs(second, kg.base, 'bob@example.com', 'bob');
    assert.notEqual(jose.decodeJwt(a.token).sid, jose.decodeJwt(b.token).sid);
    await logoutAtProvider(first, kg.base);
    assert.equal(await protectedStatus(kg.base, a.token), 401);
    assert.equal(await protectedStatus(kg.base, b.token), 200);
  });

  it('BC-11 refuses what is not a valid logout token with 400 invalid_request and changes nothing', async () => {
    const agent = new Agent();
    const { token } = await loginAs(agent, kg.base, 'alice@example.com', 'alice');
    const sessions = (await kg.store.stats()).sessions;
    const cases: Array<[string, string, string?]> = [
      ['no body', ''],
      ['missing parameter', 'other=1'],
      ['empty token', 'logout_token='],
      ['repeated parameter', 'logout_token=a.b.c&logout_token=a.b.c'],
      ['garbage', 'logout_token=not-a-jwt'],
      // An ID token is signed by the provider for this client, but it is not a logout token (no events, has nonce).
      ['an ID token', `logout_token=${token}`],
      ['alg none', `logout_token=${jose.base64url.encode('{"alg":"none"}')}.${jose.base64url.encode(JSON.stringify({ iss: 'x', aud: 'keygate-dev', iat: Math.floor(Date.now() / 1000), sub: jose.decodeJwt(token).sub, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } }))}.`],
    ];
    for (const [name, body] of cases) {
      const answer = await postLogoutToken(kg.base, body);
      assert.equal(answer.status, 400, name);
      assert.equal(answer.body?.error, 'invalid_request', name);
      assert.equal(answer.cacheControl, 'no-store', name);
    }
    assert.equal((await kg.store.stats()).sessions, sessions);
    assert.equal(await protectedStatus(kg.base, token), 200, 'the login is still alive');
  });
});
