import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { Agent } from '../helpers/agent.js';
import { loginAs, protectedStatus, startDevKeygate, type TestKeygate } from '../helpers/keygate.js';

const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin', accept: 'application/json' };

/**
 * RS256 is deterministic and a refreshed ID token differs from the first only by its iat: wait for the next second
 * so that the renewed token is a different string.
 */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));

async function refresh(agent: Agent, base: URL, headers: Record<string, string> = SAME_ORIGIN) {
  const response = await agent.request(new URL('/refresh', base), { method: 'POST', headers });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, setCookie: response.headers.get('set-cookie') };
}

describe('refresh tokens: POST /refresh renews the API token and revokes the previous one', () => {
  let kg: TestKeygate;
  before(async () => {
    kg = await startDevKeygate({ REFRESH: 'true', DEV_USERS: 'alice@example.com:alice,bob@example.com:bob,carol@example.com:carol' });
  });
  after(async () => kg.close());

  it('BC-12 renews: a new token that works, the old one refused at once, the session cookie extended', async () => {
    const agent = new Agent();
    const { token, html } = await loginAs(agent, kg.base, 'alice@example.com', 'alice');
    assert.match(html, /data-refresh-url="\/refresh"/, 'the key page renews by itself');
    assert.match(html, /id="renew"/);
    await nextSecond();
    const answer = await refresh(agent, kg.base);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const renewed = answer.body.token as string;
    assert.equal(typeof renewed, 'string');
    assert.notEqual(renewed, token);
    assert.equal(answer.body.expires_at, jose.decodeJwt(renewed).exp);
    assert.equal(jose.decodeJwt(renewed).sub, jose.decodeJwt(token).sub);
    assert.match(answer.setCookie ?? '', /keygate_session=/);
    assert.equal(await protectedStatus(kg.base, renewed), 200);
    assert.equal(await protectedStatus(kg.base, token), 401, 'the previous token is revoked');
    const page = await agent.request(new URL('/key', kg.base));
    assert.ok((await page.text()).includes(renewed), 'the key page shows the renewed token');
  });

  it('BC-13 serializes concurrent refreshes of one session, so a rotated refresh token is never reused', async () => {
    const agent = new Agent();
    const { token } = await loginAs(agent, kg.base, 'bob@example.com', 'bob');
    await nextSecond();
    const answers = await Promise.all(Array.from({ length: 5 }, () => refresh(agent, kg.base)));
    for (const answer of answers) assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const tokens = answers.map((a) => a.body.token as string);
    const sessions = await kg.store.listBySubject(jose.decodeJwt(token).sub!);
    const current = sessions.find((s) => tokens.includes(s.apiToken))!.apiToken;
    // Only the token issued last works; the login's token and any other renewed one were revoked when replaced.
    assert.equal(await protectedStatus(kg.base, current), 200);
    for (const t of new Set([token, ...tokens])) if (t !== current) assert.equal(await protectedStatus(kg.base, t), 401);
    // The grant is still alive: reuse of a rotated refresh token would have made the provider revoke it.
    assert.equal((await refresh(agent, kg.base)).status, 200);
  });

  it('BC-14 ends the login cleanly when the provider answers invalid_grant', async () => {
    const agent = new Agent();
    const { token } = await loginAs(agent, kg.base, 'carol@example.com', 'carol');
    const sessions = await kg.store.listBySubject(jose.decodeJwt(token).sub!);
    const session = sessions.find((s) => s.apiToken === token)!;
    // Revoke the refresh token at the provider (RFC 7009), as an administrator or the provider itself would.
    const revoked = await fetch(new URL('/idp/token/revocation', kg.base), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${kg.config.clientId}:${kg.config.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ token: session.refreshToken!, token_type_hint: 'refresh_token' }),
    });
    assert.equal(revoked.status, 200);
    const answer = await refresh(agent, kg.base);
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error, 'login_required');
    assert.match(answer.setCookie ?? '', /keygate_session=;/, 'the session cookie is cleared');
    assert.equal(await kg.store.get(session.id), undefined);
    assert.equal(await protectedStatus(kg.base, token), 401, 'the API token of the ended login is refused');
    assert.equal((await refresh(agent, kg.base)).status, 401);
  });

  it('BC-15 refuses a refresh without a session (401) and from another site (403)', async () => {
    const stranger = new Agent();
    const none = await refresh(stranger, kg.base);
    assert.equal(none.status, 401);
    assert.equal(none.body.error, 'login_required');
    const agent = new Agent();
    const { token } = await loginAs(agent, kg.base, 'bob@example.com', 'bob');
    const cross = await refresh(agent, kg.base, { 'sec-fetch-site': 'cross-site', accept: 'application/json' });
    assert.equal(cross.status, 403);
    assert.equal(cross.body.error, 'cross_site_request');
    assert.equal(await protectedStatus(kg.base, token), 200, 'nothing changed');
  });
});

describe('refresh is off by default', () => {
  it('POST /refresh is not served and the key page does not renew', async () => {
    const kg = await startDevKeygate();
    try {
      const agent = new Agent();
      const { html } = await loginAs(agent, kg.base, 'alice@example.com', 'alice');
      assert.doesNotMatch(html, /data-refresh-url/);
      const answer = await agent.request(new URL('/refresh', kg.base), { method: 'POST', headers: SAME_ORIGIN });
      assert.equal(answer.status, 404);
      const [session] = await kg.store.listBySubject((await kg.store.stats()).sessions ? jose.decodeJwt(/<textarea[^>]*>([^<]*)</.exec(html)![1]!.trim()).sub! : '');
      assert.equal(session?.refreshToken, undefined, 'no refresh token is kept when REFRESH is off');
    } finally {
      await kg.close();
    }
  });
});
