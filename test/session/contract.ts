/**
 * The contract every `SessionStore` must pass (memory now, Redis later). Only the interface is used here:
 * no assumption about eviction, sweeping or how expiry is enforced, beyond "an entry is gone at `expiresAt`
 * as seen through the injected clock".
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { KeygateError } from '../../src/errors.js';
import { encodeCursor } from '../../src/session/cursor.js';
import { publicSessionId } from '../../src/session/public-id.js';
import type { Session, SessionStore } from '../../src/session/store.js';

export interface TestClock {
  now: () => number;
}

/** A clock the test moves by hand; starts at a realistic epoch so stores that compute TTLs from it get sane numbers. */
class ManualClock implements TestClock {
  #t = 1_760_000_000_000;
  readonly now = (): number => this.#t;
  advance(ms: number): void {
    this.#t += ms;
  }
}

const MINUTE = 60_000;

export function sessionStoreContract(
  name: string,
  makeStore: (clock: { now: () => number }) => Promise<SessionStore> | SessionStore,
): void {
  describe(name, () => {
    let clock: ManualClock;
    let store: SessionStore;
    let closed: boolean;

    /** Unique ids and token keys per test, so a shared backend (Redis) never mixes tests. */
    const makeSession = (overrides: Partial<Session> = {}): Session => {
      const id = `sid-${randomUUID()}`;
      return {
        id,
        sub: `auth0|${randomUUID()}`,
        email: 'alice@example.com',
        emailVerified: true,
        name: 'Alice Example',
        picture: 'https://example.com/alice.png',
        apiToken: `header.payload-${id}.signature`,
        tokenKind: 'id_token',
        tokenKey: `tk-${randomUUID()}`,
        createdAt: clock.now(),
        expiresAt: clock.now() + 10 * MINUTE,
        ...overrides,
      };
    };

    beforeEach(async () => {
      clock = new ManualClock();
      store = await makeStore({ now: clock.now });
      closed = false;
    });

    afterEach(async () => {
      if (!closed) await store.close();
    });

    it('create then get and getByToken return the same session', async () => {
      const session = makeSession({ idToken: 'id.token.hint', tokenKind: 'access_token' });
      await store.create(session);
      assert.deepEqual(await store.get(session.id), session);
      assert.deepEqual(await store.getByToken(session.tokenKey), session);
    });

    it('unknown ids and token keys give undefined and are not revoked', async () => {
      await store.create(makeSession());
      assert.equal(await store.get(`sid-${randomUUID()}`), undefined);
      assert.equal(await store.getByToken(`tk-${randomUUID()}`), undefined);
      assert.equal(await store.isRevoked(`tk-${randomUUID()}`), false);
    });

    it('a live session token is not revoked', async () => {
      const session = makeSession();
      await store.create(session);
      assert.equal(await store.isRevoked(session.tokenKey), false);
    });

    it('delete ends the session, revokes its token, returns true once and false after', async () => {
      const session = makeSession();
      await store.create(session);
      assert.equal(await store.delete(session.id), true);
      assert.equal(await store.get(session.id), undefined);
      assert.equal(await store.getByToken(session.tokenKey), undefined);
      assert.equal(await store.isRevoked(session.tokenKey), true);
      assert.equal(await store.delete(session.id), false);
      // Still revoked after the second, no-op delete.
      assert.equal(await store.isRevoked(session.tokenKey), true);
    });

    it('peekByToken and peekRevoked, where a store has them, never answer other than getByToken and isRevoked', async () => {
      const agree = async (tokenKey: string) => {
        const peekedSession = store.peekByToken?.(tokenKey);
        const peekedRevoked = store.peekRevoked?.(tokenKey);
        const session = await store.getByToken(tokenKey);
        const revoked = await store.isRevoked(tokenKey);
        // Asked again after the async answers (a store may have cached them meanwhile).
        for (const known of [peekedSession, store.peekByToken?.(tokenKey)]) if (known !== undefined) assert.deepEqual(known ?? undefined, session);
        for (const known of [peekedRevoked, store.peekRevoked?.(tokenKey)]) if (known !== undefined) assert.equal(known, revoked);
      };
      const a = makeSession();
      await agree(a.tokenKey);
      await store.create(a);
      await agree(a.tokenKey);
      await store.delete(a.id);
      await agree(a.tokenKey);
      const b = makeSession();
      await store.create(b);
      await agree(b.tokenKey);
      await store.revokeToken(b.tokenKey, b.expiresAt);
      await agree(b.tokenKey);
      const c = makeSession();
      await store.create(c);
      await agree(c.tokenKey);
      clock.advance(11 * MINUTE);
      await agree(c.tokenKey);
      await store.revokeToken('tk-no-session', clock.now() + MINUTE);
      await agree('tk-no-session');
    });

    it('delete of an unknown id returns false and revokes nothing', async () => {
      const session = makeSession();
      await store.create(session);
      assert.equal(await store.delete(`sid-${randomUUID()}`), false);
      assert.deepEqual(await store.get(session.id), session);
      assert.equal(await store.isRevoked(session.tokenKey), false);
    });

    it('a session expires at expiresAt for get and getByToken', async () => {
      const session = makeSession({ expiresAt: clock.now() + 5 * MINUTE });
      await store.create(session);
      clock.advance(5 * MINUTE - 1);
      assert.deepEqual(await store.get(session.id), session, 'alive 1 ms before expiresAt');
      assert.deepEqual(await store.getByToken(session.tokenKey), session);
      clock.advance(1);
      assert.equal(await store.get(session.id), undefined, 'gone at expiresAt');
      assert.equal(await store.getByToken(session.tokenKey), undefined);
    });

    it('getByToken alone sees the expiry (without a prior get)', async () => {
      const session = makeSession({ expiresAt: clock.now() + MINUTE });
      await store.create(session);
      clock.advance(MINUTE);
      assert.equal(await store.getByToken(session.tokenKey), undefined);
    });

    it('delete of an expired session returns false', async () => {
      const session = makeSession({ expiresAt: clock.now() + MINUTE });
      await store.create(session);
      clock.advance(MINUTE + 1);
      assert.equal(await store.delete(session.id), false);
    });

    it('the revocation made by delete lasts until the session expiresAt, then lapses', async () => {
      const session = makeSession({ expiresAt: clock.now() + 5 * MINUTE });
      await store.create(session);
      clock.advance(MINUTE);
      assert.equal(await store.delete(session.id), true);
      clock.advance(4 * MINUTE - 1);
      assert.equal(await store.isRevoked(session.tokenKey), true, 'revoked 1 ms before expiresAt');
      clock.advance(1);
      assert.equal(await store.isRevoked(session.tokenKey), false, 'revocation ends at expiresAt');
    });

    it('revokeToken revokes a token no session holds, until expiresAt', async () => {
      const key = `tk-${randomUUID()}`;
      await store.revokeToken(key, clock.now() + 2 * MINUTE);
      assert.equal(await store.isRevoked(key), true);
      clock.advance(2 * MINUTE - 1);
      assert.equal(await store.isRevoked(key), true);
      clock.advance(1);
      assert.equal(await store.isRevoked(key), false);
    });

    it('revokeToken of a token a live session holds marks it revoked', async () => {
      const session = makeSession();
      await store.create(session);
      await store.revokeToken(session.tokenKey, session.expiresAt);
      assert.equal(await store.isRevoked(session.tokenKey), true);
    });

    it('revokeToken with a past or present expiry is a no-op', async () => {
      const past = `tk-${randomUUID()}`;
      const present = `tk-${randomUUID()}`;
      await store.revokeToken(past, clock.now() - 1);
      await store.revokeToken(present, clock.now());
      assert.equal(await store.isRevoked(past), false);
      assert.equal(await store.isRevoked(present), false);
      assert.equal((await store.stats()).revoked, 0);
    });

    it('revokeToken with a past expiry does not lift an existing revocation', async () => {
      const key = `tk-${randomUUID()}`;
      await store.revokeToken(key, clock.now() + MINUTE);
      await store.revokeToken(key, clock.now() - 1);
      assert.equal(await store.isRevoked(key), true);
    });

    it('a second revocation with an earlier expiry does not shorten the first', async () => {
      const key = `tk-${randomUUID()}`;
      await store.revokeToken(key, clock.now() + 5 * MINUTE);
      await store.revokeToken(key, clock.now() + MINUTE);
      clock.advance(2 * MINUTE);
      assert.equal(await store.isRevoked(key), true);
    });

    it('creating a session whose expiry has already passed stores nothing', async () => {
      const past = makeSession({ expiresAt: clock.now() - 1 });
      const now = makeSession({ expiresAt: clock.now() });
      await store.create(past);
      await store.create(now);
      assert.equal(await store.get(past.id), undefined);
      assert.equal(await store.getByToken(past.tokenKey), undefined);
      assert.equal(await store.get(now.id), undefined);
      assert.equal(await store.getByToken(now.tokenKey), undefined);
      assert.equal((await store.stats()).sessions, 0);
      assert.equal(await store.delete(past.id), false);
    });

    it('two sessions of the same sub are independent', async () => {
      const sub = `auth0|${randomUUID()}`;
      const first = makeSession({ sub });
      const second = makeSession({ sub });
      await store.create(first);
      await store.create(second);
      assert.deepEqual(await store.get(first.id), first);
      assert.deepEqual(await store.get(second.id), second);

      assert.equal(await store.delete(first.id), true);
      assert.equal(await store.get(first.id), undefined);
      assert.equal(await store.isRevoked(first.tokenKey), true);
      assert.deepEqual(await store.get(second.id), second);
      assert.deepEqual(await store.getByToken(second.tokenKey), second);
      assert.equal(await store.isRevoked(second.tokenKey), false);
    });

    it('sessions with different expiries expire independently', async () => {
      const short = makeSession({ expiresAt: clock.now() + MINUTE });
      const long = makeSession({ expiresAt: clock.now() + 3 * MINUTE });
      await store.create(short);
      await store.create(long);
      clock.advance(2 * MINUTE);
      assert.equal(await store.get(short.id), undefined);
      assert.deepEqual(await store.get(long.id), long);
    });

    it('stats() counts live sessions and revoked tokens', async () => {
      assert.deepEqual(await store.stats(), { sessions: 0, revoked: 0 });
      const a = makeSession();
      const b = makeSession();
      const c = makeSession();
      await store.create(a);
      await store.create(b);
      await store.create(c);
      assert.deepEqual(await store.stats(), { sessions: 3, revoked: 0 });
      await store.delete(a.id);
      assert.deepEqual(await store.stats(), { sessions: 2, revoked: 1 });
      await store.revokeToken(`tk-${randomUUID()}`, clock.now() + MINUTE);
      assert.deepEqual(await store.stats(), { sessions: 2, revoked: 2 });
    });

    it('create keeps refreshToken and providerSid', async () => {
      const session = makeSession({ refreshToken: `rt-${randomUUID()}`, providerSid: `psid-${randomUUID()}`, idToken: 'id.token.hint' });
      await store.create(session);
      assert.deepEqual(await store.get(session.id), session);
    });

    it('listBySubject returns the live sessions of that subject only', async () => {
      const sub = `auth0|${randomUUID()}`;
      const first = makeSession({ sub });
      const second = makeSession({ sub, expiresAt: clock.now() + MINUTE });
      const other = makeSession();
      await store.create(first);
      await store.create(second);
      await store.create(other);
      const ids = (await store.listBySubject(sub)).map((s) => s.id).sort();
      assert.deepEqual(ids, [first.id, second.id].sort());
      clock.advance(MINUTE);
      assert.deepEqual((await store.listBySubject(sub)).map((s) => s.id), [first.id], 'the expired one is gone');
      await store.delete(first.id);
      assert.deepEqual(await store.listBySubject(sub), []);
      assert.deepEqual(await store.listBySubject(`auth0|${randomUUID()}`), []);
    });

    it('listByProviderSid returns the live sessions opened under that provider session', async () => {
      const providerSid = `psid-${randomUUID()}`;
      const a = makeSession({ providerSid });
      const b = makeSession({ providerSid });
      const other = makeSession({ providerSid: `psid-${randomUUID()}` });
      const none = makeSession();
      for (const s of [a, b, other, none]) await store.create(s);
      assert.deepEqual((await store.listByProviderSid(providerSid)).map((s) => s.id).sort(), [a.id, b.id].sort());
      await store.delete(b.id);
      assert.deepEqual((await store.listByProviderSid(providerSid)).map((s) => s.id), [a.id]);
    });

    it('keeps the user agent, client address and last use of a session', async () => {
      const session = makeSession({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 — “quoted” ü', clientAddress: '203.0.113.7' });
      await store.create(session);
      assert.deepEqual(await store.get(session.id), session);
      assert.equal((await store.get(session.id))?.lastUsedAt, undefined);
    });

    it('touch records the last use, only forward, and keeps the expiry', async () => {
      const session = makeSession({ expiresAt: clock.now() + 5 * MINUTE });
      await store.create(session);
      const at = clock.now() + 1_234;
      await store.touch(session.id, at);
      assert.equal((await store.get(session.id))?.lastUsedAt, at);
      await store.touch(session.id, at - MINUTE);
      assert.equal((await store.get(session.id))?.lastUsedAt, at, 'an older time does not move it back');
      assert.deepEqual(await store.getByToken(session.tokenKey), { ...session, lastUsedAt: at });
      clock.advance(5 * MINUTE);
      assert.equal(await store.get(session.id), undefined, 'touch does not extend the session');
      await store.touch(session.id, clock.now());
      await store.touch(`sid-${randomUUID()}`, clock.now());
      assert.equal(await store.get(session.id), undefined, 'touching an ended session does not bring it back');
    });

    it('getByPublicId finds a live session by its public id, and nothing else', async () => {
      const session = makeSession();
      const other = makeSession();
      await store.create(session);
      await store.create(other);
      assert.deepEqual(await store.getByPublicId(publicSessionId(session.id)), session);
      assert.equal(await store.getByPublicId(session.id), undefined, 'the internal id is not a public id');
      assert.equal(await store.getByPublicId(publicSessionId(`sid-${randomUUID()}`)), undefined);
      assert.equal(await store.getByPublicId('not a public id'), undefined);
      await store.delete(session.id);
      assert.equal(await store.getByPublicId(publicSessionId(session.id)), undefined);
      clock.advance(10 * MINUTE);
      assert.equal(await store.getByPublicId(publicSessionId(other.id)), undefined, 'expired');
    });

    it('listPage walks one subject page by page: every session once, in order, the last page without a cursor', async () => {
      const sub = `auth0|${randomUUID()}`;
      // Equal expiries on purpose: ties are ordered by public id, and a cursor must still land between them.
      const mine = Array.from({ length: 7 }, (_, i) => makeSession({ sub, expiresAt: clock.now() + (1 + (i % 2)) * MINUTE }));
      for (const s of mine) await store.create(s);
      await store.create(makeSession());
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listPage({ sub, limit: 3, ...(cursor ? { cursor } : {}) });
        sizes.push(page.sessions.length);
        for (const s of page.sessions) assert.equal(s.sub, sub);
        seen.push(...page.sessions.map((s) => s.id));
        cursor = page.cursor;
      } while (cursor !== undefined);
      assert.deepEqual(sizes, [3, 3, 1]);
      assert.deepEqual([...seen].sort(), mine.map((s) => s.id).sort());
      const order = mine
        .map((s) => ({ id: s.id, key: `${s.expiresAt}.${publicSessionId(s.id)}` }))
        .sort((a, b) => (a.key < b.key ? -1 : 1))
        .map((s) => s.id);
      assert.deepEqual(seen, order, 'ordered by expiry, then public id');
      assert.deepEqual(await store.listPage({ sub: `auth0|${randomUUID()}`, limit: 10 }), { sessions: [] });
    });

    it('listPage without a subject lists every live session; ended and expired ones are left out', async () => {
      const sessions = Array.from({ length: 5 }, (_, i) => makeSession({ expiresAt: clock.now() + (i + 1) * MINUTE }));
      for (const s of sessions) await store.create(s);
      const first = await store.listPage({ limit: 2 });
      assert.deepEqual(first.sessions.map((s) => s.id), [sessions[0]!.id, sessions[1]!.id]);
      assert.ok(first.cursor);
      // The session the cursor points at ends, and another one expires: the walk goes on from the same place.
      await store.delete(sessions[1]!.id);
      await store.delete(sessions[2]!.id);
      const second = await store.listPage({ limit: 2, cursor: first.cursor });
      assert.deepEqual(second.sessions.map((s) => s.id), [sessions[3]!.id, sessions[4]!.id]);
      assert.equal(second.cursor, undefined);
      clock.advance(MINUTE);
      assert.deepEqual((await store.listPage({ limit: 10 })).sessions.map((s) => s.id), [sessions[3]!.id, sessions[4]!.id]);
      clock.advance(10 * MINUTE);
      assert.deepEqual(await store.listPage({ limit: 10 }), { sessions: [] });
    });

    it('listPage follows a session whose tokens were rotated, and keeps its metadata', async () => {
      const sub = `auth0|${randomUUID()}`;
      const session = makeSession({ sub, userAgent: 'UA', clientAddress: '::1' });
      await store.create(session);
      await store.touch(session.id, clock.now() + 1);
      const next = { apiToken: 'h.p9.s', tokenKey: `tk-${randomUUID()}`, expiresAt: clock.now() + 30 * MINUTE };
      await store.rotate(session.id, next);
      const [listed] = (await store.listPage({ sub, limit: 5 })).sessions;
      assert.equal(listed?.id, session.id);
      assert.equal(listed?.expiresAt, next.expiresAt);
      assert.equal(listed?.userAgent, 'UA');
      assert.equal(listed?.clientAddress, '::1');
      assert.equal(listed?.lastUsedAt, clock.now() + 1);
      assert.equal((await store.getByPublicId(publicSessionId(session.id)))?.tokenKey, next.tokenKey);
      clock.advance(20 * MINUTE);
      assert.equal((await store.listPage({ sub, limit: 5 })).sessions.length, 1, 'listed as long as the new token lives');
    });

    it('listPage refuses forged cursors and limits out of range with invalid_request', async () => {
      await store.create(makeSession());
      const refused = (error: unknown) => error instanceof KeygateError && error.code === 'invalid_request' && error.status === 400;
      const forged = [
        'x', '', '%%%', Buffer.from('1.abc.AAAAAAAAAAAAAAAAAAAAAA').toString('base64url'),
        Buffer.from('2.1.AAAAAAAAAAAAAAAAAAAAAA').toString('base64url'),
        Buffer.from('1.99999999999999999.AAAAAAAAAAAAAAAAAAAAAA').toString('base64url'),
        Buffer.from('1.1.short').toString('base64url'), 'A'.repeat(5000),
      ];
      for (const cursor of forged) await assert.rejects(store.listPage({ limit: 5, cursor }), refused, `cursor ${cursor.slice(0, 20)}`);
      for (const limit of [0, -1, 1.5, 501, Number.NaN]) await assert.rejects(store.listPage({ limit }), refused, `limit ${limit}`);
      // Well formed but past the end: an empty last page, not an error.
      const beyond = encodeCursor({ expiresAt: 8.64e15, publicId: 'A'.repeat(22) });
      assert.deepEqual(await store.listPage({ limit: 5, cursor: beyond }), { sessions: [] });
    });

    it('rotate moves the session to the new token and revokes the old one until its expiry', async () => {
      const session = makeSession({ refreshToken: 'rt-1', expiresAt: clock.now() + 5 * MINUTE });
      await store.create(session);
      const next = { apiToken: 'h.p2.s', tokenKey: `tk-${randomUUID()}`, refreshToken: 'rt-2', expiresAt: clock.now() + 20 * MINUTE };
      const updated = await store.rotate(session.id, next);
      assert.ok(updated);
      assert.equal(updated.id, session.id);
      assert.equal(updated.tokenKey, next.tokenKey);
      assert.equal(updated.refreshToken, 'rt-2');
      assert.equal(updated.expiresAt, next.expiresAt);
      assert.equal(updated.createdAt, session.createdAt);
      assert.deepEqual(await store.get(session.id), updated);
      assert.deepEqual(await store.getByToken(next.tokenKey), updated);
      assert.equal(await store.getByToken(session.tokenKey), undefined);
      assert.equal(await store.isRevoked(session.tokenKey), true);
      assert.equal(await store.isRevoked(next.tokenKey), false);
      clock.advance(10 * MINUTE);
      assert.deepEqual(await store.get(session.id), updated, 'the session now lives as long as the new token');
      assert.equal(await store.isRevoked(session.tokenKey), false, 'the old revocation lapses with the old token');
      assert.equal((await store.stats()).sessions, 1);
    });

    it('rotate of an unknown or ended session changes nothing', async () => {
      const session = makeSession();
      await store.create(session);
      await store.delete(session.id);
      const next = { apiToken: 'h.p3.s', tokenKey: `tk-${randomUUID()}`, expiresAt: clock.now() + MINUTE };
      assert.equal(await store.rotate(session.id, next), undefined);
      assert.equal(await store.rotate(`sid-${randomUUID()}`, next), undefined);
      assert.equal(await store.getByToken(next.tokenKey), undefined);
      assert.equal(await store.get(session.id), undefined);
    });

    it('withLock runs holders of one name one at a time and returns their results', async () => {
      const name = `lock-${randomUUID()}`;
      const order: string[] = [];
      const hold = (label: string, ms: number) =>
        store.withLock(name, 5_000, async () => {
          order.push(`${label}:in`);
          await new Promise((resolve) => setTimeout(resolve, ms));
          order.push(`${label}:out`);
          return label;
        });
      const results = await Promise.all([hold('a', 40), hold('b', 10), hold('c', 0)]);
      assert.deepEqual(results, ['a', 'b', 'c']);
      for (let i = 0; i < order.length; i += 2) assert.equal(order[i]!.replace(':in', ''), order[i + 1]!.replace(':out', ''), `no overlap: ${order.join(' ')}`);
    });

    it('withLock releases the lock when the holder throws, and other names do not wait', async () => {
      const name = `lock-${randomUUID()}`;
      await assert.rejects(store.withLock(name, 5_000, async () => { throw new Error('boom'); }), /boom/);
      assert.equal(await store.withLock(name, 5_000, async () => 'next'), 'next');
      let release!: () => void;
      const held = store.withLock(name, 5_000, () => new Promise<void>((resolve) => (release = resolve)));
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(await store.withLock(`lock-${randomUUID()}`, 5_000, async () => 'other'), 'other');
      release();
      await held;
    });

    it('withLock gives up with a 503 error after ttlMs when the lock stays busy', async () => {
      const name = `lock-${randomUUID()}`;
      let release!: () => void;
      const held = store.withLock(name, 5_000, () => new Promise<void>((resolve) => (release = resolve)));
      await new Promise((resolve) => setTimeout(resolve, 20));
      await assert.rejects(store.withLock(name, 100, async () => 'late'), (error: { status?: number }) => error.status === 503);
      release();
      await held;
    });

    it('ping() resolves', async () => {
      await assert.doesNotReject(store.ping());
    });

    it('close() resolves', async () => {
      await store.create(makeSession());
      closed = true;
      await assert.doesNotReject(store.close());
    });
  });
}
