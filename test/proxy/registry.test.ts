import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Edge, EdgeDecision, EdgeRequest } from '../../src/edge/decide.js';
import { accessDenied, invalidToken, UnavailableError } from '../../src/errors.js';
import { createSocketRegistry, UNAVAILABLE_LIMIT } from '../../src/proxy/registry.js';

/**
 * The registry's close codes for each later decision. The edge is scripted here (WS-04 and WS-06 run the real one
 * with real logins and logouts): what a WebSocket client sees when its login ends is tested there; what it sees when
 * the user is no longer admitted (4403) or the store stays out of reach (1011, fail closed) is a decision the real
 * stack cannot be made to take on cue, and a store fault is one of the things the house rules let a test inject.
 */
const request: EdgeRequest = { method: 'GET', uri: '/ws', rawHeaders: [], sessionId: 'session-1' };
const allowed: EdgeDecision = { allow: { sub: 'u', email: '', auth: undefined, credential: 'cookie', path: '/ws', rule: undefined } };

function setUp(next: () => Promise<EdgeDecision>) {
  const errors: unknown[] = [];
  const registry = createSocketRegistry({ decide: next } satisfies Edge, (error) => errors.push(error));
  const closed: Array<[string, number, string]> = [];
  const socket = (name: string) => ({ close: (code: number, reason: string) => void closed.push([name, code, reason]) });
  registry.add('session-1', request, socket('a'));
  registry.add('session-1', request, socket('b'));
  return { registry, closed, errors };
}

describe('open WebSockets decided again: the close code of each answer', () => {
  it('a login that ended (401): both sockets of the credential close with 4401', async () => {
    const { registry, closed } = setUp(async () => invalidToken('The login that issued this token has ended.'));
    await registry.sweep();
    assert.deepEqual(closed, [['a', 4401, 'login ended'], ['b', 4401, 'login ended']]);
    assert.equal(registry.size, 2, 'forgotten only when the sockets report their close');
    registry.close();
  });

  it('a user no longer admitted (403): 4403', async () => {
    const { registry, closed } = setUp(async () => accessDenied('The address is not allowed.'));
    await registry.sweep();
    assert.deepEqual(closed.map(([, code]) => code), [4403, 4403]);
    registry.close();
  });

  it(`the store out of reach: kept open for ${UNAVAILABLE_LIMIT - 1} rechecks, closed with 1011 at the ${UNAVAILABLE_LIMIT}th; a good answer between resets the count`, async () => {
    let answer: () => Promise<EdgeDecision> = async () => new UnavailableError('The session store cannot be reached.');
    const { registry, closed } = setUp(() => answer());
    for (let i = 1; i < UNAVAILABLE_LIMIT; i++) await registry.sweep();
    assert.equal(closed.length, 0);
    answer = async () => allowed;
    await registry.sweep();
    answer = async () => new UnavailableError('The session store cannot be reached.');
    for (let i = 1; i < UNAVAILABLE_LIMIT; i++) await registry.sweep();
    assert.equal(closed.length, 0, 'the good answer started the count again');
    await registry.sweep();
    assert.deepEqual(closed, [['a', 1011, 'login cannot be checked'], ['b', 1011, 'login cannot be checked']]);
    registry.close();
  });

  it('a decision that throws (an internal fault) is reported and counts as out of reach, never as allowed', async () => {
    const { registry, closed, errors } = setUp(async () => {
      throw new Error('boom');
    });
    for (let i = 0; i < UNAVAILABLE_LIMIT; i++) await registry.sweep();
    assert.equal(errors.length, UNAVAILABLE_LIMIT);
    assert.deepEqual(closed.map(([, code]) => code), [1011, 1011]);
    registry.close();
  });

  it('allowed: nothing closes; shutting down closes everything with 1001', async () => {
    const { registry, closed } = setUp(async () => allowed);
    await registry.sweep();
    assert.equal(closed.length, 0);
    registry.close();
    assert.deepEqual(closed.map(([, code]) => code), [1001, 1001]);
  });
});
