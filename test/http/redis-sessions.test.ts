import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { Agent, findForm } from '../helpers/agent.js';
import { loginAs } from '../helpers/keygate.js';
import { callProtected, startPair, until, type Instance, type InstancePair } from '../helpers/shared-redis.js';

/** The same browser behind a load balancer: the session cookie of A is presented to B as well. */
function shareCookies(agent: Agent, from: URL, to: URL): void {
  agent.jar.set(to.host, agent.jar.get(from.host)!);
}

const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));

async function refresh(agent: Agent, base: URL) {
  const response = await agent.request(new URL('/refresh', base), { method: 'POST', headers: { 'sec-fetch-site': 'same-origin', accept: 'application/json' } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('refresh, log out everywhere and back-channel logout across two instances sharing one Redis', () => {
  let pair: InstancePair;
  let a: Instance;
  let b: Instance;

  before(async () => {
    pair = await startPair({ REFRESH: 'true' });
    ({ a, b } = pair);
  });
  after(async () => pair?.close());

  it('concurrent refreshes of one session on A and B run one at a time (Redis lock): the grant survives rotation', async () => {
    const agent = new Agent();
    const { token } = await loginAs(agent, a.base, 'alice@example.com', 'alice');
    shareCookies(agent, a.base, b.base);
    await nextSecond();
    const answers = await Promise.all([a, b, a, b, a, b].map((instance) => refresh(agent, instance.base)));
    for (const answer of answers) assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const tokens = answers.map((answer) => answer.body.token as string);
    const [session] = await a.store.listBySubject(jose.decodeJwt(token).sub!);
    assert.ok(session && tokens.includes(session.apiToken));
    for (const instance of [a, b]) {
      assert.equal((await callProtected(instance.base, session.apiToken)).status, 200);
      for (const old of new Set([token, ...tokens])) if (old !== session.apiToken) assert.equal((await until(instance.base, old, 401)).status, 401);
    }
    // A reused (rotated) refresh token would have made the provider revoke the whole grant.
    assert.equal((await refresh(agent, b.base)).status, 200);
  });

  it('log out everywhere on A ends the logins made on B, and B refuses their tokens', async () => {
    const onB = [await loginAs(new Agent(), b.base, 'bob@example.com', 'bob'), await loginAs(new Agent(), b.base, 'bob@example.com', 'bob')];
    const agent = new Agent();
    await loginAs(agent, a.base, 'bob@example.com', 'bob');
    for (const { token } of onB) assert.equal((await callProtected(b.base, token)).status, 200);
    const response = await agent.request(new URL('/logout', a.base), {
      method: 'POST',
      headers: { 'sec-fetch-site': 'same-origin', accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'all=true',
    });
    assert.deepEqual(await response.json(), { status: 'logged_out', ended: true, other_sessions_ended: 2 });
    for (const { token } of onB) assert.deepEqual((await until(b.base, token, 401)).status, 401);
  });

  it('a back-channel logout received by A ends a login made on B', async () => {
    const agent = new Agent();
    const { token } = await loginAs(agent, b.base, 'alice@example.com', 'alice');
    assert.equal((await callProtected(b.base, token)).status, 200);
    // Log out at the provider only; it notifies A (its back-channel logout URI), which revokes through Redis.
    const { response, url } = await agent.follow(new URL(`${pair.idp.issuer}/session/end`));
    const form = findForm(await response.text(), '/session/end/confirm', url);
    const done = await agent.submit(form.action, { ...form.fields, logout: 'yes' });
    await done.response.arrayBuffer();
    assert.equal((await until(b.base, token, 401)).status, 401);
  });
});
