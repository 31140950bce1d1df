import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from '../helpers/agent.js';
import { loginAs } from '../helpers/keygate.js';
import { callProtected, startPair, type Instance, type InstancePair } from '../helpers/shared-redis.js';

const ADMIN = { ADMIN_USERS: 'alice@example.com' };

describe('sessions and administration on two Keygate instances sharing one Redis', () => {
  let pair: InstancePair;
  let a: Instance;
  let b: Instance;

  before(async () => {
    pair = await startPair(ADMIN);
    ({ a, b } = pair);
  });
  after(async () => pair?.close());

  it('SV-09 an administrator\'s logout-all on A ends the user\'s sessions on B at once: B\'s next /protected is 401', async () => {
    const admin = await loginAs(new Agent(), a.base, 'alice@example.com', 'alice');
    const onB = [];
    for (let i = 0; i < 3; i++) onB.push(await loginAs(new Agent(), b.base, 'bob@example.com', 'bob'));
    // B has each token in its local cache now.
    for (const login of onB) {
      assert.equal((await callProtected(b.base, login.token)).status, 200);
      assert.equal((await callProtected(b.base, login.token)).status, 200);
    }
    const listed = await fetch(new URL('/admin/sessions?user=bob@example.com', a.base), { headers: { authorization: `Bearer ${admin.token}` } });
    assert.equal(listed.status, 200);
    assert.equal(((await listed.json()) as { sessions: unknown[] }).sessions.length, 3, 'A lists the sessions B created');

    const logout = await fetch(new URL(`/admin/users/${encodeURIComponent('dev|bob@example.com')}/logout`, a.base), {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}` },
    });
    assert.equal(logout.status, 200);
    assert.equal(((await logout.json()) as { sessions_ended: number }).sessions_ended, 3);
    for (const login of onB) {
      const answer = await callProtected(b.base, login.token);
      assert.equal(answer.status, 401);
      assert.equal(answer.error, 'invalid_token');
    }
  });

  it('a user ends on B a session listed by its public id on A; the ids are the same on every instance', async () => {
    const first = new Agent();
    const second = new Agent({ 'user-agent': 'Second/1' });
    const one = await loginAs(first, a.base, 'bob@example.com', 'bob');
    const two = await loginAs(second, b.base, 'bob@example.com', 'bob');
    const fromA = (await (await fetch(new URL('/sessions', a.base), { headers: { authorization: `Bearer ${one.token}` } })).json()) as { sessions: Array<{ id: string; user_agent: string }> };
    const fromB = (await (await fetch(new URL('/sessions', b.base), { headers: { authorization: `Bearer ${one.token}` } })).json()) as { sessions: Array<{ id: string }> };
    assert.deepEqual(fromA.sessions.map((s) => s.id).sort(), fromB.sessions.map((s) => s.id).sort());
    const target = fromA.sessions.find((s) => s.user_agent === 'Second/1')!;
    assert.equal((await callProtected(a.base, two.token)).status, 200);
    const ended = await fetch(new URL(`/sessions/${target.id}`, b.base), { method: 'DELETE', headers: { authorization: `Bearer ${one.token}` } });
    assert.equal(ended.status, 200);
    assert.equal((await callProtected(a.base, two.token)).status, 401);
  });
});
