import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../src/session/memory.js';
import type { Session } from '../../src/session/store.js';
import { sessionStoreContract } from './contract.js';

sessionStoreContract('MemoryStore (SessionStore contract)', (clock) => new MemoryStore({ maxEntries: 1000, sweepIntervalMs: 0, now: clock.now }));

const T0 = 1_760_000_000_000;
const MINUTE = 60_000;

function session(n: number, expiresAt: number, overrides: Partial<Session> = {}): Session {
  return {
    id: `sid-${n}`,
    sub: `user-${n}`,
    apiToken: `a.b${n}.c`,
    tokenKind: 'id_token',
    tokenKey: `tk-${n}`,
    createdAt: T0,
    expiresAt,
    ...overrides,
  };
}

describe('MemoryStore specifics', () => {
  it('the size bound evicts the least recently created session', async () => {
    const store = new MemoryStore({ maxEntries: 2, sweepIntervalMs: 0, now: () => T0 });
    await store.create(session(1, T0 + MINUTE));
    await store.create(session(2, T0 + MINUTE));
    await store.create(session(3, T0 + MINUTE));
    assert.equal(await store.get('sid-1'), undefined);
    assert.equal(await store.getByToken('tk-1'), undefined);
    assert.equal((await store.get('sid-2'))?.id, 'sid-2');
    assert.equal((await store.get('sid-3'))?.id, 'sid-3');
    assert.equal((await store.stats()).sessions, 2);
    await store.close();
  });

  it('a get refreshes recency, so the least recently used goes first', async () => {
    const store = new MemoryStore({ maxEntries: 2, sweepIntervalMs: 0, now: () => T0 });
    await store.create(session(1, T0 + MINUTE));
    await store.create(session(2, T0 + MINUTE));
    assert.ok(await store.get('sid-1')); // 1 is now more recent than 2
    await store.create(session(3, T0 + MINUTE));
    assert.equal((await store.get('sid-1'))?.id, 'sid-1');
    assert.equal(await store.get('sid-2'), undefined);
    assert.equal((await store.get('sid-3'))?.id, 'sid-3');
    await store.close();
  });

  it('a getByToken refreshes recency too', async () => {
    const store = new MemoryStore({ maxEntries: 2, sweepIntervalMs: 0, now: () => T0 });
    await store.create(session(1, T0 + MINUTE));
    await store.create(session(2, T0 + MINUTE));
    assert.ok(await store.getByToken('tk-1'));
    await store.create(session(3, T0 + MINUTE));
    assert.ok(await store.get('sid-1'));
    assert.equal(await store.getByToken('tk-2'), undefined);
    await store.close();
  });

  it('second chance: a session read many times survives eviction; when all were read, a new one still gets in', async () => {
    const store = new MemoryStore({ maxEntries: 3, sweepIntervalMs: 0, now: () => T0 });
    for (const n of [1, 2, 3]) await store.create(session(n, T0 + MINUTE));
    for (let i = 0; i < 100; i++) assert.ok(await store.getByToken('tk-1'));
    await store.create(session(4, T0 + MINUTE));
    await store.create(session(5, T0 + MINUTE));
    assert.deepEqual(await Promise.all([1, 2, 3, 4, 5].map(async (n) => (await store.get(`sid-${n}`)) !== undefined)), [true, false, false, true, true]);
    // 1, 4 and 5 were all just read: the new session is kept, one of them goes (the first in the eviction walk: 4).
    await store.create(session(6, T0 + MINUTE));
    assert.equal((await store.stats()).sessions, 3);
    assert.ok(await store.get('sid-6'));
    assert.deepEqual(await Promise.all([1, 4, 5].map(async (n) => (await store.get(`sid-${n}`)) !== undefined)), [true, false, true]);
    await store.close();
  });

  it('re-creating a session with the same id replaces it without counting twice', async () => {
    const store = new MemoryStore({ maxEntries: 2, sweepIntervalMs: 0, now: () => T0 });
    await store.create(session(1, T0 + MINUTE));
    await store.create(session(1, T0 + 2 * MINUTE, { tokenKey: 'tk-1b' }));
    assert.equal((await store.stats()).sessions, 1);
    assert.equal((await store.get('sid-1'))?.tokenKey, 'tk-1b');
    assert.equal(await store.getByToken('tk-1'), undefined, 'the old token key no longer points at the session');
    await store.close();
  });

  it('sweep() purges expired sessions and revocations', async () => {
    let now = T0;
    const store = new MemoryStore({ maxEntries: 10, sweepIntervalMs: 0, now: () => now });
    await store.create(session(1, T0 + MINUTE));
    await store.create(session(2, T0 + 3 * MINUTE));
    await store.revokeToken('tk-x', T0 + MINUTE);
    await store.revokeToken('tk-y', T0 + 3 * MINUTE);
    now = T0 + 2 * MINUTE;
    store.sweep();
    now = T0; // back in time: a swept entry must be physically gone, not just hidden by the clock
    assert.equal(await store.get('sid-1'), undefined);
    assert.equal(await store.getByToken('tk-1'), undefined);
    assert.equal(await store.isRevoked('tk-x'), false);
    assert.equal((await store.get('sid-2'))?.id, 'sid-2');
    assert.equal(await store.isRevoked('tk-y'), true);
    assert.deepEqual(await store.stats(), { sessions: 1, revoked: 1 });
    await store.close();
  });

  it('revocations outlive the session bound: evicting sessions never brings a revoked token back', async () => {
    const store = new MemoryStore({ maxEntries: 2, sweepIntervalMs: 0, now: () => T0 });
    for (const name of ['a', 'b', 'c', 'd', 'e']) await store.revokeToken(`tk-${name}`, T0 + MINUTE);
    for (const name of ['s1', 's2', 's3']) {
      await store.create({ id: name, sub: 'u', apiToken: 'x', tokenKind: 'id_token', tokenKey: `key-${name}`, createdAt: T0, expiresAt: T0 + MINUTE });
    }
    for (const name of ['a', 'b', 'c', 'd', 'e']) assert.equal(await store.isRevoked(`tk-${name}`), true, name);
    assert.deepEqual(await store.stats(), { sessions: 2, revoked: 5 });
    await store.close();
  });

  it('peekByToken and peekRevoked always know the answer at once (one process\'s memory)', async () => {
    const store = new MemoryStore({ maxEntries: 10, sweepIntervalMs: 0, now: () => T0 });
    const s = session(1, T0 + MINUTE);
    assert.equal(store.peekByToken(s.tokenKey), null);
    await store.create(s);
    assert.equal(store.peekByToken(s.tokenKey), s);
    assert.equal(store.peekRevoked(s.tokenKey), false);
    await store.delete(s.id);
    assert.equal(store.peekByToken(s.tokenKey), null);
    assert.equal(store.peekRevoked(s.tokenKey), true);
    await store.close();
  });

  it('the constructor rejects maxEntries that is not a positive integer', () => {
    assert.throws(() => new MemoryStore({ maxEntries: 0, sweepIntervalMs: 0 }), TypeError);
    assert.throws(() => new MemoryStore({ maxEntries: -1, sweepIntervalMs: 0 }), TypeError);
    assert.throws(() => new MemoryStore({ maxEntries: 1.5, sweepIntervalMs: 0 }), TypeError);
    assert.throws(() => new MemoryStore({ maxEntries: Number.NaN, sweepIntervalMs: 0 }), TypeError);
    assert.doesNotThrow(() => new MemoryStore({ maxEntries: 1, sweepIntervalMs: 0 }));
  });

  it('close() empties the store', async () => {
    const store = new MemoryStore({ maxEntries: 10, sweepIntervalMs: 0, now: () => T0 });
    await store.create(session(1, T0 + MINUTE));
    await store.revokeToken('tk-x', T0 + MINUTE);
    await store.close();
    assert.deepEqual(await store.stats(), { sessions: 0, revoked: 0 });
  });
});
