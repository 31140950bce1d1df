import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { LAST_USED_INTERVAL_MS, LastUsedTracker } from '../../src/http/last-used.js';
import { MemoryStore } from '../../src/session/memory.js';
import type { Session } from '../../src/session/store.js';

const T0 = 1_760_000_000_000;

/** A real memory store that also counts its writes of "last used". */
class CountingStore extends MemoryStore {
  touches = 0;
  override async touch(id: string, at: number): Promise<void> {
    this.touches++;
    return super.touch(id, at);
  }
}

function session(n: number): Session {
  return { id: `sid-${n}`, sub: 'user', apiToken: 'a.b.c', tokenKind: 'id_token', tokenKey: `tk-${n}`, createdAt: T0, expiresAt: T0 + 3_600_000 };
}

describe('LastUsedTracker', () => {
  it('writes at most once a minute per session, after the caller has moved on', async () => {
    let t = T0;
    const store = new CountingStore({ maxEntries: 10, sweepIntervalMs: 0, now: () => t });
    const tracker = new LastUsedTracker(store, () => t, { warn: () => {} });
    await store.create(session(1));
    await store.create(session(2));
    tracker.sawToken('tk-1');
    assert.equal(store.touches, 0, 'nothing happens before the request has answered');
    await tick();
    await tick();
    assert.equal(store.touches, 1);
    assert.equal((await store.get('sid-1'))?.lastUsedAt, T0);
    for (let i = 0; i < 100; i++) {
      t += 500;
      tracker.sawToken('tk-1');
    }
    tracker.sawSession((await store.get('sid-1'))!);
    await tick();
    await tick();
    assert.equal(store.touches, 1, 'within the minute, no further write');
    tracker.sawToken('tk-2');
    await tick();
    await tick();
    assert.equal(store.touches, 2, 'another session has its own minute');
    t = T0 + LAST_USED_INTERVAL_MS;
    tracker.sawToken('tk-1');
    await tick();
    await tick();
    assert.equal(store.touches, 3);
    assert.equal((await store.get('sid-1'))?.lastUsedAt, T0 + LAST_USED_INTERVAL_MS);
  });

  it('a failing store is logged, never thrown at the request', async () => {
    const warnings: unknown[] = [];
    const store = new MemoryStore({ maxEntries: 10, sweepIntervalMs: 0 });
    store.getByToken = async () => {
      throw new Error('store down');
    };
    const tracker = new LastUsedTracker(store, Date.now, { warn: (...args: unknown[]) => void warnings.push(args) });
    assert.doesNotThrow(() => tracker.sawToken('tk-x'));
    await tick();
    await tick();
    assert.equal(warnings.length, 1);
  });

  it('keeps a bounded memory of sessions it wrote for (the oldest is forgotten, and so due again)', async () => {
    const store = new CountingStore({ maxEntries: 10, sweepIntervalMs: 0, now: () => T0 });
    const tracker = new LastUsedTracker(store, () => T0, { warn: () => {} }, 3);
    for (let i = 0; i < 5; i++) await store.create(session(i));
    for (let i = 0; i < 5; i++) tracker.sawToken(`tk-${i}`);
    await tick();
    await tick();
    assert.equal(store.touches, 5);
    tracker.sawToken('tk-4');
    tracker.sawToken('tk-0');
    await tick();
    await tick();
    assert.equal(store.touches, 6, 'tk-4 is remembered, tk-0 was forgotten');
  });
});
