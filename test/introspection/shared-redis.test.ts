import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from '../helpers/agent.js';
import { loginAs } from '../helpers/keygate.js';
import { logoutWithToken, startPair, type Instance, type InstancePair } from '../helpers/shared-redis.js';
import { CLIENTS_ENV, introspect, tokenForm } from './helpers.js';

describe('introspection on two Keygate instances sharing one real Redis', () => {
  let pair: InstancePair;
  let a: Instance;
  let b: Instance;

  before(async () => {
    pair = await startPair({ INTROSPECTION_CLIENTS: CLIENTS_ENV });
    ({ a, b } = pair);
  });
  after(async () => pair?.close());

  it('IN-18 a logout on A makes B answer {"active": false} for that token (within a second, polled)', async () => {
    const { token } = await loginAs(new Agent(), a.base, 'alice@example.com', 'alice');
    assert.equal((await introspect(b.base, tokenForm(token))).body.active, true, 'B knows the login A created');
    assert.equal((await introspect(b.base, tokenForm(token))).body.active, true, 'and again, from its local cache');
    assert.equal((await logoutWithToken(a.base, token)).status, 200);
    const started = Date.now();
    let answer = await introspect(b.base, tokenForm(token));
    while (answer.body.active !== false && Date.now() - started < 1_000) answer = await introspect(b.base, tokenForm(token));
    assert.deepEqual(answer.body, { active: false }, `after ${Date.now() - started} ms`);
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    assert.deepEqual((await introspect(a.base, tokenForm(token))).body, { active: false });
  });
});
