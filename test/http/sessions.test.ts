import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEntry } from '../../src/audit/audit.js';
import { isPublicSessionId, publicSessionId } from '../../src/session/public-id.js';
import { Agent } from '../helpers/agent.js';
import { loginAs, protectedStatus, startDevKeygate, type TestKeygate } from '../helpers/keygate.js';

interface Listed {
  id: string;
  created_at: string;
  last_used_at: string | null;
  user_agent: string | null;
  client_address: string | null;
  current: boolean;
}

const SAME = { 'sec-fetch-site': 'same-origin', accept: 'application/json' };
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

async function listWithCookie(agent: Agent, base: URL): Promise<{ status: number; body: { sessions: Listed[] } }> {
  const response = await agent.request(new URL('/sessions', base), { headers: { accept: 'application/json' } });
  return { status: response.status, body: (await response.json()) as { sessions: Listed[] } };
}

async function listWithToken(base: URL, token: string): Promise<{ sessions: Listed[] }> {
  const response = await fetch(new URL('/sessions', base), { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  return (await response.json()) as { sessions: Listed[] };
}

describe('GET /sessions and DELETE /sessions/:id: a user\'s own logins', () => {
  let kg: TestKeygate;
  let other: TestKeygate;
  const audit: AuditEntry[] = [];
  before(async () => {
    kg = await startDevKeygate({}, { audit: { emit: (entry) => audit.push(entry) } });
    other = await startDevKeygate();
  });
  after(async () => {
    await kg?.close();
    await other?.close();
  });

  it('lists every live login of the caller with its device, address and times, exactly one current, by cookie or token', async () => {
    const agents = ['Firefox/1', 'Chrome/2', 'Safari/3'].map((ua) => new Agent({ 'user-agent': ua }));
    const logins = [];
    for (const agent of agents) logins.push(await loginAs(agent, kg.base, 'alice@example.com', 'alice'));
    await loginAs(new Agent({ 'user-agent': 'Bob/1' }), kg.base, 'bob@example.com', 'bob');

    const { status, body } = await listWithCookie(agents[1]!, kg.base);
    assert.equal(status, 200);
    assert.ok(body.sessions.length >= 3);
    const mine = body.sessions.filter((s) => ['Firefox/1', 'Chrome/2', 'Safari/3'].includes(s.user_agent ?? ''));
    assert.equal(mine.length, 3, 'the three logins of this user, and no one else\'s');
    assert.ok(!body.sessions.some((s) => s.user_agent === 'Bob/1'));
    assert.deepEqual(body.sessions.filter((s) => s.current).map((s) => s.user_agent), ['Chrome/2'], 'exactly one current: this browser');
    for (const s of body.sessions) {
      assert.deepEqual(Object.keys(s).sort(), ['client_address', 'created_at', 'current', 'id', 'last_used_at', 'user_agent']);
      assert.ok(isPublicSessionId(s.id));
      assert.match(s.created_at, ISO);
      assert.match(s.last_used_at ?? '', ISO);
      assert.equal(s.client_address, '127.0.0.1');
    }
    // The id is neither the cookie nor the token, nor part of either.
    const cookies = [...(agents[1]!.jar.get(kg.base.host)?.values() ?? [])].join(' ');
    for (const s of body.sessions) {
      assert.ok(!cookies.includes(s.id) && !logins.some((l) => l.token.includes(s.id)));
    }

    const byToken = await listWithToken(kg.base, logins[2]!.token);
    assert.deepEqual(byToken.sessions.filter((s) => s.current).map((s) => s.user_agent), ['Safari/3'], 'the token\'s own login is current');
    assert.deepEqual(byToken.sessions.map((s) => s.id).sort(), body.sessions.map((s) => s.id).sort());
  });

  it('ends one of the caller\'s other logins: its token is refused at once, the caller stays logged in', async () => {
    const phone = new Agent({ 'user-agent': 'Phone/1' });
    const laptop = new Agent({ 'user-agent': 'Laptop/1' });
    const onPhone = await loginAs(phone, kg.base, 'bob@example.com', 'bob');
    const onLaptop = await loginAs(laptop, kg.base, 'bob@example.com', 'bob');
    const target = (await listWithCookie(laptop, kg.base)).body.sessions.find((s) => s.user_agent === 'Phone/1')!;
    const ended = await laptop.request(new URL(`/sessions/${target.id}`, kg.base), { method: 'DELETE', headers: SAME });
    assert.equal(ended.status, 200);
    assert.deepEqual(await ended.json(), { status: 'ended', current: false });
    assert.equal(await protectedStatus(kg.base, onPhone.token), 401);
    assert.equal(await protectedStatus(kg.base, onLaptop.token), 200);
    assert.ok(!(await listWithCookie(laptop, kg.base)).body.sessions.some((s) => s.id === target.id));
    assert.equal((await listWithCookie(phone, kg.base)).status, 401, 'the ended browser is logged out');
    const event = audit.find((e) => e.event === 'session_ended_by_owner' && e.sessionId !== undefined && publicSessionId(e.sessionId) === target.id);
    assert.ok(event);
    assert.equal(event.actor, 'dev|bob@example.com');
    assert.ok(!JSON.stringify(audit).includes(onPhone.token), 'no token in the audit trail');
  });

  it('ending the current login with the cookie logs this browser out (the cookie is cleared)', async () => {
    const agent = new Agent();
    const { token } = await loginAs(agent, kg.base, 'alice@example.com', 'alice');
    const current = (await listWithCookie(agent, kg.base)).body.sessions.find((s) => s.current)!;
    const ended = await agent.request(new URL(`/sessions/${current.id}`, kg.base), { method: 'DELETE', headers: SAME });
    assert.deepEqual(await ended.json(), { status: 'ended', current: true });
    assert.match(ended.headers.getSetCookie().join('\n'), /keygate_session=;/);
    assert.equal(await protectedStatus(kg.base, token), 401);
  });

  it('SV-01 another user\'s id, an unknown id, a malformed id and another instance\'s id all answer the same 404', async () => {
    const alice = new Agent();
    const aliceLogin = await loginAs(alice, kg.base, 'alice@example.com', 'alice');
    const bob = new Agent();
    const bobLogin = await loginAs(bob, kg.base, 'bob@example.com', 'bob');
    const bobsId = (await listWithCookie(bob, kg.base)).body.sessions.find((s) => s.current)!.id;
    const elsewhere = new Agent();
    await loginAs(elsewhere, other.base, 'alice@example.com', 'alice');
    const otherInstanceId = (await listWithCookie(elsewhere, other.base)).body.sessions.find((s) => s.current)!.id;
    const aliceCookieValue = alice.cookie(kg.base.host, 'keygate_session')!;

    const answers = [];
    for (const id of [bobsId, 'AAAAAAAAAAAAAAAAAAAAAA', otherInstanceId, 'not-an-id', '..%2F..%2Fadmin', encodeURIComponent(aliceCookieValue), 'x'.repeat(190)]) {
      const response = await alice.request(new URL(`/sessions/${id}`, kg.base), { method: 'DELETE', headers: SAME });
      answers.push({ status: response.status, body: await response.text() });
    }
    for (const answer of answers) assert.deepEqual(answer, answers[0]);
    assert.equal(answers[0]!.status, 404);
    assert.equal((JSON.parse(answers[0]!.body) as { error: string }).error, 'not_found');
    // With a bearer token too.
    const byToken = await fetch(new URL(`/sessions/${bobsId}`, kg.base), { method: 'DELETE', headers: { authorization: `Bearer ${aliceLogin.token}` } });
    assert.equal(byToken.status, 404);
    assert.equal(await byToken.text(), answers[0]!.body);
    assert.equal(await protectedStatus(kg.base, bobLogin.token), 200, 'Bob\'s login is untouched');
    assert.equal(await protectedStatus(kg.base, aliceLogin.token), 200, 'so is Alice\'s: the cookie value is not an id');
  });

  it('SV-02 a cookie-authenticated DELETE from another site (Sec-Fetch-Site or Origin) is refused with 403 and ends nothing', async () => {
    const agent = new Agent();
    const { token } = await loginAs(agent, kg.base, 'alice@example.com', 'alice');
    const current = (await listWithCookie(agent, kg.base)).body.sessions.find((s) => s.current)!;
    const crossSite: Record<string, string>[] = [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'https://evil.example' }];
    for (const headers of crossSite) {
      const response = await agent.request(new URL(`/sessions/${current.id}`, kg.base), { method: 'DELETE', headers: { accept: 'application/json', ...headers } });
      assert.equal(response.status, 403);
      assert.equal(((await response.json()) as { error: string }).error, 'cross_site_request');
    }
    assert.equal(await protectedStatus(kg.base, token), 200);
  });

  it('SV-03 without credentials, or with a bad or revoked token, the answer is 401', async () => {
    assert.equal((await fetch(new URL('/sessions', kg.base))).status, 401);
    assert.equal((await fetch(new URL('/sessions', kg.base), { headers: { authorization: 'Bearer a.b.c' } })).status, 401);
    const { token } = await loginAs(new Agent(), kg.base, 'bob@example.com', 'bob');
    await fetch(new URL('/logout', kg.base), { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const revoked = await fetch(new URL('/sessions', kg.base), { headers: { authorization: `Bearer ${token}` } });
    assert.equal(revoked.status, 401);
    assert.equal(((await revoked.json()) as { error: string }).error, 'invalid_token');
    const del = await fetch(new URL('/sessions/AAAAAAAAAAAAAAAAAAAAAA', kg.base), { method: 'DELETE' });
    assert.equal(del.status, 401);
  });

  it('"last used" is recorded: the key page visit after the login counts as a use', async () => {
    const agent = new Agent();
    const { token } = await loginAs(agent, kg.base, 'alice@example.com', 'alice');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const current = (await listWithToken(kg.base, token)).sessions.find((s) => s.current)!;
    assert.ok(Date.parse(current.last_used_at!) >= Date.parse(current.created_at));
  });
});
