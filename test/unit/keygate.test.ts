import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compilePolicy, createKeygate, KeygateOptionsError, MemoryStore, PolicyError, tokenKey } from '../../src/index.js';
import { startLocalIssuer } from '../helpers/issuer.js';

const AUDIENCE = 'https://api.example.test';

describe('createKeygate: options validated at creation, every problem at once', () => {
  it('lists every problem in one error', () => {
    let error: unknown;
    try {
      createKeygate({
        issuer: 'http://idp.example.com',
        audience: '',
        algorithms: ['HS256', 'none', 'RS256'],
        clockTolerance: 120,
        maxTokenLifetime: 1.5,
        requireSession: true,
        allowlist: ['not an address', '@ok.example'],
        emailClaim: '',
        timeoutMs: 5,
        tokenCacheSize: -1,
        audiance: 'typo',
      } as never);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof KeygateOptionsError);
    const problems = error.problems.join('\n');
    for (const fragment of [
      'audiance: unknown option',
      'issuer: plain http is only allowed for loopback hosts',
      'audience: required',
      'algorithms: HS256 needs a shared secret',
      'algorithms: "none" is not a supported',
      'clockTolerance: expected a whole number from 0 to 60',
      'maxTokenLifetime: expected a whole number',
      'timeoutMs: expected a whole number from 100',
      'tokenCacheSize: expected a whole number from 0',
      'emailClaim: a non-empty string',
      'requireSession: needs the store',
      'allowlist: "not an address" is neither',
    ]) {
      assert.ok(problems.includes(fragment), `missing "${fragment}" in:\n${problems}`);
    }
    assert.equal(error.problems.length, 12);
  });

  it('accepts the minimal options and applies the defaults', async () => {
    const kg = createKeygate({ issuer: 'https://tenant.example.auth0.com/', audience: AUDIENCE });
    assert.deepEqual(kg.options.algorithms, ['RS256']);
    assert.equal(kg.options.clockTolerance, 30);
    assert.equal(kg.options.maxTokenLifetime, 86_400);
    assert.equal(kg.options.requireSession, false);
    assert.equal(kg.options.tokenCacheSize, 10_000);
    assert.ok(kg.store instanceof MemoryStore);
    assert.ok(Object.isFrozen(kg.options));
    await kg.close();
  });

  it('http issuers only on loopback; no query or fragment', () => {
    assert.doesNotThrow(() => createKeygate({ issuer: 'http://[::1]:5000/idp', audience: AUDIENCE }));
    assert.throws(() => createKeygate({ issuer: 'https://idp.example.com/?x=1', audience: AUDIENCE }), /issuer: must not carry a query, fragment or credentials/);
    assert.throws(() => createKeygate({ issuer: 'not a url', audience: AUDIENCE }), /issuer: expected an absolute https URL/);
  });
});

describe('several audiences', () => {
  it('a string or a non-empty array of identifiers; each problem names the option (and the entry)', () => {
    const problems = (audience: unknown) => {
      try {
        createKeygate({ issuer: 'https://tenant.example.auth0.com/', audience } as never);
        return [];
      } catch (e) {
        assert.ok(e instanceof KeygateOptionsError);
        return e.problems;
      }
    };
    assert.deepEqual(problems([]), ['audience: an empty array accepts no token; give at least one audience']);
    assert.deepEqual(problems(['https://a.example', 3, 'two words']), ['audience[1]: a non-empty string', 'audience[2]: must be one identifier without spaces, got "two words"']);
    assert.deepEqual(problems(42), ['audience: a string or an array of strings, got number']);
    assert.match(problems(undefined).join(), /^audience: required/);
    assert.deepEqual(problems(['https://a.example', 'client-id']), []);
  });

  it('a token is accepted when its aud names any of them, refused when it names none', async () => {
    const issuer = await startLocalIssuer(AUDIENCE);
    const kg = createKeygate({ issuer: issuer.issuer, audience: [AUDIENCE, 'https://second.example.test'] });
    try {
      assert.deepEqual(kg.options.audience, [AUDIENCE, 'https://second.example.test']);
      assert.ok(Object.isFrozen(kg.options.audience));
      for (const aud of [AUDIENCE, 'https://second.example.test', ['https://other.example.test', 'https://second.example.test']]) {
        assert.equal((await kg.authorize(await issuer.mint({ aud }))).profile.sub, 'user-1', JSON.stringify(aud));
      }
      await assert.rejects(kg.authorize(await issuer.mint({ aud: 'https://other.example.test' })), { code: 'invalid_token', description: 'The token is not meant for this API (aud).' });
    } finally {
      await kg.close();
      await issuer.close();
    }
  });
});

describe('route policies: validated when the route is declared', () => {
  it('lists every problem in one error', () => {
    let error: unknown;
    try {
      compilePolicy({ scopes: [], permissions: ['ok', 'has space'], claims: { a: { equals: {} }, b: { includes: 'x', equals: 1 } } as never, allowlist: ['x'], role: 'admin' } as never);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof PolicyError);
    assert.equal(error.problems.length, 6, error.problems.join('\n'));
  });

  it('authRequired: a boolean, false only when written so', () => {
    assert.throws(() => compilePolicy({ authRequired: 'no' } as never), (e: unknown) => e instanceof PolicyError && e.problems.join() === 'policy.authRequired: true or false');
    assert.equal(compilePolicy({}).authRequired, true);
    assert.equal(compilePolicy({ authRequired: false }).authRequired, false);
  });

  it('authenticateOptional: undefined only without credentials; core.authenticate still refuses them', async () => {
    // A provider that cannot be reached (an injected network fault): a token sent is never waved through.
    const down: typeof fetch = async () => { throw new TypeError('fetch failed'); };
    const kg = createKeygate({ issuer: 'https://tenant.example.auth0.com/', audience: AUDIENCE, fetch: down });
    const optional = kg.policy({ authRequired: false });
    assert.equal(await kg.authenticateOptional({ rawHeaders: ['Accept', '*/*'] }, optional), undefined);
    await assert.rejects(kg.authenticateOptional({ rawHeaders: [] }, kg.policy()), { code: 'unauthorized', status: 401 });
    await assert.rejects(kg.authenticate({ rawHeaders: [] }, optional), { code: 'unauthorized', status: 401 });
    await assert.rejects(kg.authenticateOptional({ rawHeaders: ['authorization', 'Bearer a.b.c'] }, optional), { code: 'temporarily_unavailable', status: 503 });
    await assert.rejects(kg.authenticateOptional({ rawHeaders: [], body: { access_token: 'x' } }, optional), { code: 'invalid_request' });
    await kg.close();
  });

  it('a claim rule that throws is a bug, not a 403: it propagates', () => {
    const policy = compilePolicy({ claims: { x: () => { throw new Error('boom'); } } });
    assert.throws(() => policy.check({ claims: { sub: 's', exp: 1, iat: 0 }, profile: { sub: 's', exp: 1 } }), /boom/);
  });
});

describe('discovery and keys are shared per issuer', () => {
  it('two instances and many routes for one issuer: one discovery, one key set fetch', async () => {
    const issuer = await startLocalIssuer(AUDIENCE);
    const a = createKeygate({ issuer: issuer.issuer, audience: AUDIENCE });
    const b = createKeygate({ issuer: issuer.issuer, audience: AUDIENCE, allowlist: ['@example.com'] });
    try {
      assert.equal(issuer.hits.size, 0, 'discovery is lazy');
      const token = await issuer.mint({ email: 'ann@example.com' });
      const results = await Promise.all([a, b, a, b].map((kg, i) => kg.authorize(token, kg.policy(i % 2 ? {} : { claims: { sub: { equals: 'user-1' } } }))));
      for (const r of results) assert.equal(r.profile.email, 'ann@example.com');
      assert.equal(await a.verifier(), await b.verifier(), 'same verification options: one verifier');
      assert.equal(issuer.hits.get('/.well-known/openid-configuration'), 1);
      assert.equal(issuer.hits.get('/jwks'), 1);
    } finally {
      await a.close();
      await b.close();
      await issuer.close();
    }
  });

  it('the verified-token cache is shared per issuer, skips the signature of a token seen again, and never outlives a revocation', async () => {
    const issuer = await startLocalIssuer(AUDIENCE);
    const store = new MemoryStore({ maxEntries: 10, sweepIntervalMs: 0 });
    const cached = createKeygate({ issuer: issuer.issuer, audience: AUDIENCE, store });
    const uncached = createKeygate({ issuer: issuer.issuer, audience: AUDIENCE, store, tokenCacheSize: 0 });
    try {
      const token = await issuer.mint();
      await cached.authorize(token);
      const verifier = (await cached.verifier()) as { cacheSize?: () => number };
      assert.equal(verifier.cacheSize?.(), 1, 'the token is cached after its first verification');
      assert.equal((await uncached.verifier() as { cacheSize?: () => number }).cacheSize, undefined, 'tokenCacheSize 0: no cache');
      await cached.authorize(token);
      await store.revokeToken(tokenKey(token), Date.now() + 60_000);
      await assert.rejects(cached.authorize(token), /revoked/);
      await assert.rejects(uncached.authorize(token), /revoked/);
    } finally {
      await cached.close();
      await uncached.close();
      await store.close();
      await issuer.close();
    }
  });

  it('a revocation in a store passed in is seen at once; a private store is not shared', async () => {
    const issuer = await startLocalIssuer(AUDIENCE);
    const store = new MemoryStore({ maxEntries: 10, sweepIntervalMs: 0 });
    const shared = createKeygate({ issuer: issuer.issuer, audience: AUDIENCE, store });
    const own = createKeygate({ issuer: issuer.issuer, audience: AUDIENCE });
    try {
      const token = await issuer.mint();
      await shared.authorize(token);
      await store.revokeToken(tokenKey(token), Date.now() + 60_000);
      await assert.rejects(shared.authorize(token), /revoked/);
      await own.authorize(token);
      await shared.close();
      assert.equal(await store.isRevoked(tokenKey(token)), true, 'close() leaves a store passed in open');
    } finally {
      await own.close();
      await store.close();
      await issuer.close();
    }
  });
});

describe('the library reads no environment', () => {
  it('no process.env outside src/config/load.ts', async () => {
    const offenders: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (path.endsWith('.ts') && path !== join('src', 'config', 'load.ts') && (await readFile(path, 'utf8')).includes('process.env')) offenders.push(path);
      }
    };
    await walk('src');
    assert.deepEqual(offenders, []);
  });
});
