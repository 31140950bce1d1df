import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from '../helpers/agent.js';
import { loginAs, protectedStatus, startDevKeygate, type TestKeygate } from '../helpers/keygate.js';

const FORM = { 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };

describe('log out everywhere: POST /logout with all=true', () => {
  let kg: TestKeygate;
  before(async () => {
    kg = await startDevKeygate();
  });
  after(async () => kg.close());

  it('the key page button ends every login of that user, and no other user\'s', async () => {
    const browsers = [new Agent(), new Agent(), new Agent()];
    const tokens = [];
    for (const agent of browsers) tokens.push((await loginAs(agent, kg.base, 'alice@example.com', 'alice')).token);
    const bob = await loginAs(new Agent(), kg.base, 'bob@example.com', 'bob');
    for (const token of tokens) assert.equal(await protectedStatus(kg.base, token), 200);

    const answer = await browsers[0]!.request(new URL('/logout', kg.base), { method: 'POST', headers: FORM, body: 'all=true' });
    assert.equal(answer.status, 200);
    assert.deepEqual(await answer.json(), { status: 'logged_out', ended: true, other_sessions_ended: 2 });
    for (const token of tokens) assert.equal(await protectedStatus(kg.base, token), 401);
    assert.equal(await protectedStatus(kg.base, bob.token), 200, 'another user is untouched');
  });

  it('works with the bearer token alone too, and all=false logs out only that login', async () => {
    const a = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    const b = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    const c = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    const one = await fetch(new URL('/logout?all=false', kg.base), { method: 'POST', headers: { authorization: `Bearer ${a.token}` } });
    assert.deepEqual(await one.json(), { status: 'logged_out', ended: true });
    assert.equal(await protectedStatus(kg.base, b.token), 200);
    const all = await fetch(new URL('/logout', kg.base), {
      method: 'POST',
      headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'all=true',
    });
    assert.deepEqual(await all.json(), { status: 'logged_out', ended: true, other_sessions_ended: 1 });
    assert.equal(await protectedStatus(kg.base, c.token), 401);
  });

  it('BC-16 needs proof of one login: a forged or cross-site request ends nothing; a bad value is a 400', async () => {
    const victim = await loginAs(new Agent(), kg.base, 'bob@example.com', 'bob');
    const noProof = await fetch(new URL('/logout', kg.base), { method: 'POST', headers: FORM, body: 'all=true' });
    assert.equal(noProof.status, 200);
    assert.deepEqual(await noProof.json(), { status: 'logged_out', ended: false, other_sessions_ended: 0 });
    const forged = await fetch(new URL('/logout', kg.base), { method: 'POST', headers: { ...FORM, authorization: 'Bearer a.b.c' }, body: 'all=true' });
    assert.equal(forged.status, 401);
    const agent = new Agent();
    await loginAs(agent, kg.base, 'bob@example.com', 'bob');
    const cross = await agent.request(new URL('/logout', kg.base), { method: 'POST', headers: { ...FORM, 'sec-fetch-site': 'cross-site' }, body: 'all=true' });
    assert.equal(cross.status, 403);
    const bad = await agent.request(new URL('/logout', kg.base), { method: 'POST', headers: FORM, body: 'all=maybe' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: string }).error, 'invalid_request');
    assert.equal(await protectedStatus(kg.base, victim.token), 200);
  });
});
