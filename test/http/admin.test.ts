import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEntry } from '../../src/audit/audit.js';
import { publicSessionId } from '../../src/session/public-id.js';
import { encodeCursor } from '../../src/session/cursor.js';
import { Agent } from '../helpers/agent.js';
import { loginAs, protectedStatus, startDevKeygate, type TestKeygate } from '../helpers/keygate.js';

const AUDIENCE = 'https://api.example.com';
const DEV_USERS = JSON.stringify([
  { email: 'alice@example.com', password: 'alice', name: 'Alice' },
  { email: 'bob@example.com', password: 'bob', name: 'Bob' },
  { email: 'carol@example.com', password: 'carol', name: 'Carol' },
  // Listed by domain, but the provider has not verified the address.
  { email: 'eve@admins.example', password: 'eve', name: 'Eve', email_verified: false },
  // Listed nowhere by e-mail: an administrator by the permission on its API token.
  { email: 'ops@example.com', password: 'ops', name: 'Ops', permissions: ['admin:sessions'] },
]);
const SAME = { 'sec-fetch-site': 'same-origin', accept: 'application/json' };

interface AdminListed {
  id: string;
  sub: string;
  email: string | null;
  current: boolean;
  created_at: string;
  expires_at: string;
  user_agent: string | null;
}
interface AdminPage {
  sessions: AdminListed[];
  next_cursor: string | null;
}

describe('session administration: /admin/sessions, /admin/users/:sub/logout', () => {
  let kg: TestKeygate;
  const audit: AuditEntry[] = [];
  let alice: { agent: Agent; token: string };
  let ops: { token: string };

  const get = async (token: string, query: string) => {
    const response = await fetch(new URL(`/admin/sessions${query}`, kg.base), { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as AdminPage & { error?: string } };
  };

  before(async () => {
    kg = await startDevKeygate(
      { AUDIENCE, DEV_USERS, ADMIN_USERS: 'alice@example.com, @admins.example', ADMIN_SCOPE: 'admin:sessions' },
      { audit: { emit: (entry) => audit.push(entry) } },
    );
    const agent = new Agent({ 'user-agent': 'AdminBrowser/1' });
    alice = { agent, token: (await loginAs(agent, kg.base, 'alice@example.com', 'alice')).token };
    ops = await loginAs(new Agent(), kg.base, 'ops@example.com', 'ops');
  });
  after(async () => kg?.close());

  it('an administrator by verified e-mail lists a user\'s sessions by e-mail or sub, page by page, with sub and e-mail', async () => {
    const bobs = [];
    for (let i = 0; i < 3; i++) bobs.push(await loginAs(new Agent({ 'user-agent': `BobDevice/${i}` }), kg.base, 'bob@example.com', 'bob'));
    await loginAs(new Agent(), kg.base, 'carol@example.com', 'carol');

    const byEmail = await get(alice.token, '?user=BOB@example.com');
    assert.equal(byEmail.status, 200);
    assert.equal(byEmail.body.sessions.length, 3);
    assert.equal(byEmail.body.next_cursor, null);
    for (const s of byEmail.body.sessions) {
      assert.equal(s.sub, 'dev|bob@example.com');
      assert.equal(s.email, 'bob@example.com');
      assert.equal(s.current, false);
      assert.match(s.expires_at, /Z$/);
    }
    const bySub = await get(alice.token, `?user=${encodeURIComponent('dev|bob@example.com')}`);
    assert.deepEqual(bySub.body.sessions.map((s) => s.id).sort(), byEmail.body.sessions.map((s) => s.id).sort());

    // Page by page, with a cursor, by sub and by e-mail: every session once.
    for (const user of ['dev|bob@example.com', 'bob@example.com']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await get(alice.token, `?user=${encodeURIComponent(user)}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(page.status, 200);
        assert.ok(page.body.sessions.length <= 1);
        seen.push(...page.body.sessions.map((s) => s.id));
        cursor = page.body.next_cursor;
        pages++;
      } while (cursor !== null && pages < 10);
      assert.deepEqual([...seen].sort(), byEmail.body.sessions.map((s) => s.id).sort(), user);
    }

    // Every session, without a user: the admin's own is marked current.
    const all = await get(alice.token, '?limit=500');
    assert.ok(all.body.sessions.length >= 6);
    assert.deepEqual(all.body.sessions.filter((s) => s.current).map((s) => s.user_agent), ['AdminBrowser/1']);
    assert.ok(audit.some((e) => e.event === 'admin_sessions_listed' && e.actor === 'dev|alice@example.com'));
  });

  it('an administrator ends one session, and logs a user out everywhere: their tokens are refused at once', async () => {
    const carols = [];
    for (let i = 0; i < 3; i++) carols.push(await loginAs(new Agent({ 'user-agent': `Carol/${i}` }), kg.base, 'carol@example.com', 'carol'));
    const listed = (await get(ops.token, '?user=carol@example.com')).body.sessions;
    const one = listed.find((s) => s.user_agent === 'Carol/1')!;
    const ended = await fetch(new URL(`/admin/sessions/${one.id}`, kg.base), { method: 'DELETE', headers: { authorization: `Bearer ${ops.token}` } });
    assert.equal(ended.status, 200);
    assert.deepEqual(await ended.json(), { status: 'ended', current: false, sub: 'dev|carol@example.com' });
    assert.deepEqual(await Promise.all(carols.map((c) => protectedStatus(kg.base, c.token))), [200, 401, 200]);
    const again = await fetch(new URL(`/admin/sessions/${one.id}`, kg.base), { method: 'DELETE', headers: { authorization: `Bearer ${ops.token}` } });
    assert.equal(again.status, 404);

    const all = await alice.agent.request(new URL(`/admin/users/${encodeURIComponent('dev|carol@example.com')}/logout`, kg.base), { method: 'POST', headers: SAME });
    assert.equal(all.status, 200);
    const body = (await all.json()) as { status: string; sessions_ended: number; current: boolean };
    assert.equal(body.status, 'logged_out');
    assert.ok(body.sessions_ended >= 2);
    assert.equal(body.current, false);
    for (const c of carols) assert.equal(await protectedStatus(kg.base, c.token), 401);
    assert.deepEqual((await get(alice.token, '?user=carol@example.com')).body.sessions, []);
    assert.ok(audit.some((e) => e.event === 'session_ended_by_admin' && e.actor === 'dev|ops@example.com' && e.sessionId !== undefined && publicSessionId(e.sessionId) === one.id));
    assert.ok(audit.some((e) => e.event === 'user_logged_out_by_admin' && e.subject === 'dev|carol@example.com' && Number(e.detail?.count ?? 0) >= 2));
  });

  it('SV-04 everyone else gets 403 access_denied on every admin route, ends nothing, and the attempt is audited', async () => {
    const bob = new Agent();
    const { token } = await loginAs(bob, kg.base, 'bob@example.com', 'bob');
    const target = (await get(alice.token, '?user=alice@example.com')).body.sessions[0]!;
    const before = audit.length;
    const attempts = [
      fetch(new URL('/admin/sessions', kg.base), { headers: { authorization: `Bearer ${token}` } }),
      fetch(new URL(`/admin/sessions/${target.id}`, kg.base), { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }),
      fetch(new URL(`/admin/users/${encodeURIComponent('dev|alice@example.com')}/logout`, kg.base), { method: 'POST', headers: { authorization: `Bearer ${token}` } }),
      bob.request(new URL('/admin/sessions?user=alice@example.com', kg.base), { headers: SAME }),
      bob.request(new URL(`/admin/sessions/${target.id}`, kg.base), { method: 'DELETE', headers: SAME }),
    ];
    for (const response of await Promise.all(attempts)) {
      assert.equal(response.status, 403);
      assert.equal(((await response.json()) as { error: string }).error, 'access_denied');
    }
    const page = await bob.request(new URL('/admin', kg.base), { headers: { accept: 'text/html' } });
    assert.equal(page.status, 403);
    assert.match(await page.text(), /access_denied/);
    assert.equal(await protectedStatus(kg.base, alice.token), 200);
    const refused = audit.slice(before).filter((e) => e.event === 'admin_refused');
    assert.equal(refused.length, 6);
    for (const e of refused) assert.equal(e.actor, 'dev|bob@example.com');
  });

  it('SV-05 a listed domain whose address the provider has not verified is refused', async () => {
    const eve = await loginAs(new Agent(), kg.base, 'eve@admins.example', 'eve');
    const answer = await get(eve.token, '');
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error, 'access_denied');
  });

  it('SV-06 a token with the admin permission is refused with 401 once revoked (logged out)', async () => {
    const second = await loginAs(new Agent(), kg.base, 'ops@example.com', 'ops');
    assert.equal((await get(second.token, '')).status, 200);
    const logout = await fetch(new URL('/logout', kg.base), { method: 'POST', headers: { authorization: `Bearer ${second.token}` } });
    assert.equal(logout.status, 200);
    const answer = await get(second.token, '');
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error, 'invalid_token');
    const del = await fetch(new URL(`/admin/users/${encodeURIComponent('dev|bob@example.com')}/logout`, kg.base), { method: 'POST', headers: { authorization: `Bearer ${second.token}` } });
    assert.equal(del.status, 401);
  });

  it('SV-07 cookie-authenticated admin actions from another site are refused with 403 cross_site_request', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'bob@example.com', 'bob');
    const target = (await get(alice.token, '?user=bob@example.com')).body.sessions[0]!;
    const crossSite: Record<string, string>[] = [{ 'sec-fetch-site': 'cross-site' }, { origin: 'https://evil.example' }];
    for (const headers of crossSite) {
      const del = await alice.agent.request(new URL(`/admin/sessions/${target.id}`, kg.base), { method: 'DELETE', headers: { accept: 'application/json', ...headers } });
      assert.equal(del.status, 403);
      assert.equal(((await del.json()) as { error: string }).error, 'cross_site_request');
      const all = await alice.agent.request(new URL(`/admin/users/${encodeURIComponent('dev|bob@example.com')}/logout`, kg.base), { method: 'POST', headers: { accept: 'application/json', ...headers } });
      assert.equal(all.status, 403);
    }
    assert.equal(await protectedStatus(kg.base, token), 200);
    assert.ok(audit.some((e) => e.event === 'admin_refused' && String(e.detail?.reason ?? '').includes('cross_site_request')));
  });

  it('SV-08 forged and out-of-range cursors and limits are a 400 invalid_request; a cursor past the end is an empty last page', async () => {
    const bad = [
      '?cursor=forged', `?cursor=${Buffer.from('1.1.short').toString('base64url')}`, `?cursor=${'A'.repeat(300)}`,
      `?cursor=${Buffer.from('1.99999999999999999.AAAAAAAAAAAAAAAAAAAAAA').toString('base64url')}`,
      '?limit=0', '?limit=501', '?limit=-1', '?limit=abc', '?limit=1&limit=2', `?user=${'x'.repeat(600)}`,
    ];
    for (const query of bad) {
      const answer = await get(alice.token, query);
      assert.equal(answer.status, 400, query);
      assert.equal(answer.body.error, 'invalid_request', query);
    }
    const beyond = await get(alice.token, `?cursor=${encodeCursor({ expiresAt: 8.64e15, publicId: 'z'.repeat(22) })}`);
    assert.equal(beyond.status, 200);
    assert.deepEqual(beyond.body, { sessions: [], next_cursor: null });
    for (const id of ['AAAAAAAAAAAAAAAAAAAAAA', 'not-an-id']) {
      const response = await fetch(new URL(`/admin/sessions/${id}`, kg.base), { method: 'DELETE', headers: { authorization: `Bearer ${alice.token}` } });
      assert.equal(response.status, 404);
    }
  });

  it('GET /admin: the page for an administrator, a login first without a session', async () => {
    const page = await alice.agent.request(new URL('/admin', kg.base), { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/static\/admin.js"><\/script>/);
    assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]/, 'no inline script');
    const anonymous = await fetch(new URL('/admin', kg.base), { redirect: 'manual' });
    assert.equal(anonymous.status, 302);
    assert.equal(anonymous.headers.get('location'), '/login?returnTo=%2Fadmin');
  });
});
