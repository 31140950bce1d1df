import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as jose from 'jose';
import { KeygateError } from '../../src/errors.js';
import { MemoryStore } from '../../src/session/memory.js';
import { createAuthorizer } from '../../src/token/authorize.js';
import { createCachedVerifier, type TokenCacheOptions } from '../../src/token/cache.js';
import { createTokenVerifier, tokenKey, type TokenVerifier } from '../../src/token/verifier.js';

type CryptoKey = Awaited<ReturnType<typeof jose.generateKeyPair>>['privateKey'];

const ISSUER = 'https://idp.example.com/';
const AUDIENCE = 'https://api.example.com';
const KID = 'key-1';
/** Seconds since the epoch at the start of every test. */
const NOW = 1_760_000_000;
const TOLERANCE = 30;
const LIFETIME = 3600;

let privateKey: CryptoKey;
let keys: jose.JWTVerifyGetKey;

before(async () => {
  const pair = await jose.generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  keys = jose.createLocalJWKSet({ keys: [{ ...(await jose.exportJWK(pair.publicKey)), kid: KID, alg: 'RS256' }] });
});

/** A clock in milliseconds that the test moves by hand; shared by the verifier, the cache and the store. */
class Clock {
  ms = NOW * 1000;
  readonly now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

async function sign(claims: Record<string, unknown> = {}): Promise<string> {
  const payload = { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', email: 'alice@example.com', iat: NOW - 60, exp: NOW + 600, ...claims };
  return new jose.SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' }).sign(privateKey);
}

/** The real verifier with the test clock, wrapped in a call counter, then in the cache. */
function setup(options: Partial<TokenCacheOptions> = {}) {
  const clock = new Clock();
  const real = createTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['RS256'],
    keys,
    clockTolerance: TOLERANCE,
    maxTokenLifetime: LIFETIME,
    now: clock.now,
  });
  const calls: string[] = [];
  const counting: TokenVerifier = (token) => {
    calls.push(token);
    return real(token);
  };
  const cached = createCachedVerifier(counting, { maxEntries: 100, clockTolerance: TOLERANCE, maxTokenLifetime: LIFETIME, now: clock.now, ...options });
  return { clock, calls, cached };
}

async function refused(promise: Promise<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof KeygateError, String(error));
    assert.equal(error.status, 401);
    assert.equal(error.code, 'invalid_token');
    assert.match(error.description, reason);
    return true;
  });
}

describe('createCachedVerifier', () => {
  it('verifies a token once, then answers it from the cache with the same result', async () => {
    const { calls, cached } = setup();
    const token = await sign();
    const first = await cached(token);
    const second = await cached(token);
    assert.equal(calls.length, 1);
    assert.equal(second, first);
    assert.equal(second.key, tokenKey(token));
    assert.equal(second.claims.sub, 'user-1');
    assert.ok(Object.isFrozen(second.claims), 'a shared result cannot be changed by one request');
  });

  it('an expired token is refused once exp + tolerance has passed, although it is cached', async () => {
    const { clock, calls, cached } = setup({ maxAgeMs: 3_600_000 });
    const token = await sign();
    await cached(token);
    clock.advance(600 + TOLERANCE - 1);
    await cached(token);
    assert.equal(calls.length, 1, 'still inside the tolerance: from the cache');
    clock.advance(1);
    await refused(cached(token), /expired/);
    assert.equal(calls.length, 2, 'outside its window the token goes back to the verifier');
    await refused(cached(token), /expired/);
  });

  it('a clock that moves back before nbf - tolerance is not answered from the cache', async () => {
    const { clock, calls, cached } = setup();
    const token = await sign({ nbf: NOW + 10 });
    await cached(token);
    clock.advance(-(TOLERANCE - 10));
    await cached(token);
    assert.equal(calls.length, 1);
    clock.advance(-1);
    await refused(cached(token), /nbf/);
    assert.equal(calls.length, 2);
  });

  it('the cache holds at most maxEntries tokens and drops the least recently used', async () => {
    const { calls, cached } = setup({ maxEntries: 3 });
    const tokens = await Promise.all([1, 2, 3, 4, 5].map((n) => sign({ sub: `user-${n}` })));
    for (const t of tokens.slice(0, 3)) await cached(t);
    await cached(tokens[0]!); // 1 is now the most recently used; 2 is the oldest
    await cached(tokens[3]!); // evicts 2
    assert.equal(cached.cacheSize(), 3);
    calls.length = 0;
    await cached(tokens[0]!);
    await cached(tokens[2]!);
    await cached(tokens[3]!);
    assert.deepEqual(calls, [], '1, 3 and 4 are still cached');
    await cached(tokens[1]!);
    assert.deepEqual(calls, [tokens[1]], '2 was evicted and is verified again');
    for (const t of tokens) await cached(t);
    assert.equal(cached.cacheSize(), 3);
  });

  it('when every cached token was used, a new one still gets in and the least recently used goes', async () => {
    const { calls, cached } = setup({ maxEntries: 3 });
    const tokens = await Promise.all([1, 2, 3, 4].map((n) => sign({ sub: `user-${n}` })));
    for (const t of tokens.slice(0, 3)) await cached(t);
    for (const t of tokens.slice(0, 3)) await cached(t); // all used, 1 least recently
    await cached(tokens[3]!);
    calls.length = 0;
    await cached(tokens[3]!);
    await cached(tokens[2]!);
    await cached(tokens[1]!);
    assert.deepEqual(calls, [], 'the new token and 2, 3 are cached');
    await cached(tokens[0]!);
    assert.deepEqual(calls, [tokens[0]], '1 was evicted');
    assert.equal(cached.cacheSize(), 3);
  });

  it('failures are not cached: a token refused while the keys are unreachable is accepted once they answer', async () => {
    const clock = new Clock();
    let down = true;
    const real = createTokenVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['RS256'],
      keys: (header, token) => {
        if (down) throw new TypeError('fetch failed');
        return keys(header, token);
      },
      clockTolerance: TOLERANCE,
      maxTokenLifetime: LIFETIME,
      now: clock.now,
    });
    const cached = createCachedVerifier(real, { maxEntries: 10, clockTolerance: TOLERANCE, maxTokenLifetime: LIFETIME, now: clock.now });
    const token = await sign();
    await assert.rejects(cached(token), (e: unknown) => e instanceof KeygateError && e.status === 503);
    assert.equal(cached.cacheSize(), 0);
    down = false;
    assert.equal((await cached(token)).claims.sub, 'user-1');
  });

  it('a bad token is verified (and refused) every time, never remembered', async () => {
    const { calls, cached } = setup();
    const bad = await sign({ aud: 'https://other.example.com' });
    await refused(cached(bad), /aud/);
    await refused(cached(bad), /aud/);
    assert.equal(calls.length, 2);
    assert.equal(cached.cacheSize(), 0);
  });

  it('another spelling of a cached token is not served from the cache and is refused as non-canonical', async () => {
    const { cached } = setup();
    const token = await sign();
    await cached(token);
    const [h, p, s] = token.split('.');
    await refused(cached(`${h}.${p}.${s}=`), /^The token is damaged or not a JWT\.$/);
    await refused(cached(` ${token}`), /^The token is damaged or not a JWT\.$/);
  });

  it('a forged token that ends like a cached one (its signature kept) is verified and refused; the genuine one stays cached', async () => {
    const { calls, cached } = setup();
    const token = await sign();
    await cached(token);
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', iat: NOW - 60, exp: NOW + 600 })).toString('base64url')}.${s}`;
    assert.equal(forged.slice(-43), token.slice(-43));
    await refused(cached(forged), /signature/);
    await refused(cached(forged), /signature/);
    assert.equal(calls.length, 3, 'the forged token is verified every time');
    assert.equal((await cached(token)).claims.sub, 'user-1');
    assert.equal(calls.length, 3, 'the genuine token is still answered from the cache');
    await refused(cached('a.b.c'), /./);
  });

  it('an entry is verified again after maxAgeMs (a key withdrawn from the JWKS stops being trusted)', async () => {
    const { clock, calls, cached } = setup({ maxAgeMs: 60_000 });
    const token = await sign();
    await cached(token);
    clock.advance(59);
    await cached(token);
    assert.equal(calls.length, 1);
    clock.advance(1);
    await cached(token);
    assert.equal(calls.length, 2);
  });

  it('peek answers at once only for a token verified before and still inside its window', async () => {
    const { clock, calls, cached } = setup({ maxAgeMs: 3_600_000 });
    const token = await sign();
    assert.equal(cached.peek(token), undefined, 'never verified: not known');
    const verified = await cached(token);
    assert.equal(cached.peek(token), verified);
    assert.equal(cached.peek(`${token}x`), undefined, 'another string with the same end is not the token');
    clock.advance(600 + TOLERANCE);
    assert.equal(cached.peek(token), undefined, 'expired: back to the verifier, which refuses it');
    await refused(cached(token), /expired/);
    assert.equal(calls.length, 2);
  });

  it('refuses a size below 1 (0 means: do not wrap)', () => {
    const { cached } = setup();
    for (const maxEntries of [0, -1, 1.5]) {
      assert.throws(() => createCachedVerifier(cached, { maxEntries, clockTolerance: 0, maxTokenLifetime: 60 }), TypeError);
    }
  });
});

describe('authorize with the cache: the store is asked on every request', () => {
  async function fixture(requireSession: boolean) {
    const { clock, calls, cached } = setup();
    const store = new MemoryStore({ maxEntries: 10, sweepIntervalMs: 0, now: clock.now });
    const authorize = createAuthorizer({ config: { requireSession, allowlist: undefined, emailClaim: 'email' }, store, verifier: async () => cached });
    const token = await sign();
    await store.create({
      id: 'sid-1',
      sub: 'user-1',
      email: 'alice@example.com',
      apiToken: token,
      tokenKind: 'id_token',
      tokenKey: tokenKey(token),
      createdAt: clock.now(),
      expiresAt: (NOW + 600) * 1000,
    });
    return { clock, calls, store, authorize, token };
  }

  it('a cached token is refused right after logout (session deleted)', async () => {
    const { calls, store, authorize, token } = await fixture(true);
    assert.equal((await authorize(token)).profile.email, 'alice@example.com');
    assert.equal((await authorize(token)).profile.email, 'alice@example.com');
    assert.equal(calls.length, 1, 'the second request was answered from the cache');
    assert.equal(await store.delete('sid-1'), true);
    await refused(authorize(token), /logged out|ended/);
    assert.equal(calls.length, 1, 'refused although the token is still cached and its signature valid');
  });

  it('REQUIRE_SESSION=false: a cached token is refused right after it is revoked', async () => {
    const { calls, store, authorize, token } = await fixture(false);
    await authorize(token);
    await authorize(token);
    assert.equal(calls.length, 1);
    await store.revokeToken(tokenKey(token), (NOW + 600) * 1000);
    await refused(authorize(token), /revoked/);
  });

  it('now() answers with a value, not a promise, once the token is cached; a logout is seen at once all the same', async () => {
    for (const requireSession of [true, false]) {
      const { store, authorize, token } = await fixture(requireSession);
      assert.ok(authorize.now(token) instanceof Promise, 'the first time, the token must be verified');
      await authorize(token);
      const known = authorize.now(token);
      assert.ok(!(known instanceof Promise));
      assert.equal(known.profile.email, 'alice@example.com');
      await store.delete('sid-1');
      if (!requireSession) await store.revokeToken(tokenKey(token), (NOW + 600) * 1000);
      assert.throws(() => authorize.now(token), (error: unknown) => error instanceof KeygateError && error.code === 'invalid_token');
    }
  });

  it('a store without peeks is asked as before: the answer is a promise, and the same', async () => {
    const { store, token } = await fixture(true);
    const { cached } = setup();
    const asyncOnly = { getByToken: (key: string) => store.getByToken(key), isRevoked: (key: string) => store.isRevoked(key) } as unknown as MemoryStore;
    const authorize = createAuthorizer({ config: { requireSession: true, allowlist: undefined, emailClaim: 'email' }, store: asyncOnly, verifier: async () => cached });
    await authorize(token);
    const later = authorize.now(token);
    assert.ok(later instanceof Promise);
    assert.equal((await later).profile.email, 'alice@example.com');
    await store.delete('sid-1');
    await refused(Promise.resolve().then(() => authorize.now(token)), /logged out|ended/);
  });

  it('a cached token is refused after it expires (injected clock)', async () => {
    const { clock, authorize, token } = await fixture(false);
    await authorize(token);
    clock.advance(600 + TOLERANCE);
    await refused(authorize(token), /expired/);
  });
});
