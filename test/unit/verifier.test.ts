import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as jose from 'jose';
import { KeygateError, UnavailableError } from '../../src/errors.js';
import { compilePolicy } from '../../src/policy/route.js';
import { assertCanonical, createTokenVerifier, tokenKey, type TokenVerifierOptions } from '../../src/token/verifier.js';

/** WebCrypto's key type (lib.dom is not loaded in this project). */
type CryptoKey = Awaited<ReturnType<typeof jose.generateKeyPair>>['privateKey'];

const ISSUER = 'https://idp.example.com/';
const AUDIENCE = 'https://api.example.com';
const CLIENT = 'client-123';
const KID = 'key-1';
/** Fixed clock: seconds since the epoch. */
const NOW = 1_760_000_000;
const TOLERANCE = 30;
const LIFETIME = 3600;
const HMAC = new TextEncoder().encode('a-shared-client-secret-of-32-chars!!');

let privateKey: CryptoKey;
let otherPrivateKey: CryptoKey;
let keys: jose.JWTVerifyGetKey;

before(async () => {
  const pair = await jose.generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  otherPrivateKey = (await jose.generateKeyPair('RS256', { extractable: true })).privateKey;
  const jwk = { ...(await jose.exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  keys = jose.createLocalJWKSet({ keys: [jwk] });
});

function verifier(overrides: Partial<TokenVerifierOptions> = {}) {
  return createTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['RS256'],
    keys,
    clockTolerance: TOLERANCE,
    maxTokenLifetime: LIFETIME,
    now: () => NOW * 1000,
    ...overrides,
  });
}

type Claims = Record<string, unknown>;
const baseClaims = (): Claims => ({ iss: ISSUER, aud: AUDIENCE, sub: 'auth0|alice', iat: NOW - 60, exp: NOW + 600, email: 'alice@example.com' });

/** Signs `claims` (undefined values are dropped, so a claim can be removed) with RS256 unless told otherwise. */
async function sign(
  claims: Claims = {},
  options: { header?: jose.JWTHeaderParameters; key?: CryptoKey | Uint8Array } = {},
): Promise<string> {
  const payload = Object.fromEntries(Object.entries({ ...baseClaims(), ...claims }).filter(([, v]) => v !== undefined));
  const header: jose.JWTHeaderParameters = options.header ?? { alg: 'RS256', kid: KID, typ: 'JWT' };
  return new jose.SignJWT(payload as jose.JWTPayload).setProtectedHeader(header).sign(options.key ?? privateKey);
}

/** Expects `promise` to reject with a KeygateError of this status and code; returns it. */
async function rejects(promise: Promise<unknown>, status: number, code: string): Promise<KeygateError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeygateError, `expected a KeygateError, got ${String(error)}`);
    assert.equal(error.status, status, `status (${error.description})`);
    assert.equal(error.code, code, `code (${error.description})`);
    if (status === 401 || status === 403) {
      const challenge = error.headers['www-authenticate'];
      assert.ok(challenge?.startsWith(`Bearer error="${code}"`), `challenge: ${challenge}`);
    }
    return error;
  }
  assert.fail('expected the token to be refused');
}
/** 401 invalid_token, and when given, a description that names the reason (so the test fails for the right cause). */
async function invalid(promise: Promise<unknown>, reason?: RegExp): Promise<KeygateError> {
  const error = await rejects(promise, 401, 'invalid_token');
  if (reason !== undefined) assert.match(error.description, reason);
  return error;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('createTokenVerifier', () => {
  it('a good token gives its claims, header and canonical key', async () => {
    const token = await sign();
    const result = await verifier()(token);
    assert.equal(result.claims.sub, 'auth0|alice');
    assert.equal(result.claims.email, 'alice@example.com');
    assert.equal(result.claims.exp, NOW + 600);
    assert.equal(result.claims.iat, NOW - 60);
    assert.equal(result.header.alg, 'RS256');
    assert.equal(result.header.kid, KID);
    assert.equal(result.key, tokenKey(token));
  });

  it('an audience array that contains ours is accepted', async () => {
    await verifier()(await sign({ aud: ['https://other.example.com', AUDIENCE] }));
  });

  it('an expired token is 401 invalid_token "expired"', async () => {
    await invalid(verifier()(await sign({ iat: NOW - 600, exp: NOW - TOLERANCE - 1 })), /expired/i);
  });

  it('expiry within the clock tolerance is still accepted', async () => {
    await verifier()(await sign({ iat: NOW - 600, exp: NOW - TOLERANCE + 5 }));
  });

  it('nbf in the future beyond the tolerance is 401; within it, accepted', async () => {
    await invalid(verifier()(await sign({ nbf: NOW + TOLERANCE + 5 })), /nbf/);
    await verifier()(await sign({ nbf: NOW + TOLERANCE - 5 }));
  });

  it('iat in the future beyond the tolerance is 401; within it, accepted', async () => {
    await invalid(verifier()(await sign({ iat: NOW + TOLERANCE + 5 })), /iat/);
    await verifier()(await sign({ iat: NOW + TOLERANCE - 5 }));
  });

  it('iat older than the longest lifetime is 401', async () => {
    await invalid(verifier()(await sign({ iat: NOW - LIFETIME - TOLERANCE - 10, exp: NOW + 60 })));
  });

  for (const claim of ['exp', 'iat', 'sub', 'aud', 'iss']) {
    it(`a token without ${claim} is 401`, async () => {
      await invalid(verifier()(await sign({ [claim]: undefined })), new RegExp(`"${claim}"`));
    });
  }

  it('an empty or non-string sub is 401', async () => {
    await invalid(verifier()(await sign({ sub: '' })), /sub/);
    await invalid(verifier()(await sign({ sub: 42 })), /sub/);
  });

  it('a wrong issuer is 401, including the trailing-slash variant', async () => {
    await invalid(verifier()(await sign({ iss: 'https://evil.example.com/' })), /iss/);
    await invalid(verifier()(await sign({ iss: 'https://idp.example.com' })), /iss/);
    await invalid(verifier({ issuer: 'https://idp.example.com' })(await sign({ iss: 'https://idp.example.com/' })), /iss/);
  });

  it('a wrong audience is 401', async () => {
    await invalid(verifier()(await sign({ aud: 'https://other.example.com' })), /aud/);
    await invalid(verifier()(await sign({ aud: `${AUDIENCE}/` })), /aud/);
    await invalid(verifier()(await sign({ aud: [] })));
  });

  it('a lifetime exp - iat over maxTokenLifetime is 401', async () => {
    await invalid(verifier()(await sign({ iat: NOW - 10, exp: NOW - 10 + LIFETIME + 1 })), /longer/);
    await verifier()(await sign({ iat: NOW - 10, exp: NOW - 10 + LIFETIME }));
  });

  it('alg none (unsigned) is 401', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(baseClaims())}.`;
    await invalid(verifier()(unsigned));
    // Even with some bytes in the signature slot, or with "none" in the allowlist.
    const withSig = `${b64({ alg: 'none' })}.${b64(baseClaims())}.AAAA`;
    await invalid(verifier()(withSig), /algorithm/);
    await invalid(verifier({ algorithms: ['RS256', 'none'] })(withSig), /algorithm|support/);
  });

  it('HS256 is 401 when only RS256 is accepted, whatever the secret', async () => {
    await invalid(verifier()(await sign({}, { header: { alg: 'HS256', typ: 'JWT' }, key: HMAC })), /algorithm/);
    await invalid(verifier({ hmacSecret: HMAC })(await sign({}, { header: { alg: 'HS256', typ: 'JWT' }, key: HMAC })), /algorithm/);
  });

  it('HS256 allowed but without hmacSecret is 401', async () => {
    await invalid(verifier({ algorithms: ['RS256', 'HS256'] })(await sign({}, { header: { alg: 'HS256' }, key: HMAC })), /HS256/);
  });

  it('HS256 is accepted when allowed and hmacSecret matches; another secret is 401', async () => {
    const v = verifier({ algorithms: ['RS256', 'HS256'], hmacSecret: HMAC });
    const result = await v(await sign({}, { header: { alg: 'HS256', typ: 'JWT' }, key: HMAC }));
    assert.equal(result.claims.sub, 'auth0|alice');
    const other = new TextEncoder().encode('another-shared-secret-of-32-chars!!!');
    const error = await invalid(v(await sign({}, { header: { alg: 'HS256' }, key: other })));
    assert.match(error.description, /signature/i);
  });

  it('typ JWT, at+jwt and application/at+jwt are accepted; no typ too', async () => {
    for (const typ of ['JWT', 'jwt', 'at+jwt', 'application/at+jwt']) {
      await verifier()(await sign({}, { header: { alg: 'RS256', kid: KID, typ } }));
    }
    await verifier()(await sign({}, { header: { alg: 'RS256', kid: KID } }));
  });

  it('typ id_token+jwt, foo and JOSE+JSON-like types are refused', async () => {
    for (const typ of ['id_token+jwt', 'foo', 'logout+jwt', 'secevent+jwt']) {
      await invalid(verifier()(await sign({}, { header: { alg: 'RS256', kid: KID, typ } })), /type/);
    }
  });

  it('azp mismatch is refused when authorizedParty is set; match or absence is accepted', async () => {
    const v = verifier({ audience: CLIENT, authorizedParty: CLIENT });
    await invalid(v(await sign({ aud: CLIENT, azp: 'another-client' })), /azp/);
    await v(await sign({ aud: CLIENT, azp: CLIENT }));
    await v(await sign({ aud: CLIENT }));
    // Without authorizedParty, azp is not checked.
    await verifier({ audience: CLIENT })(await sign({ aud: CLIENT, azp: 'another-client' }));
  });

  // The verifier verifies; scopes are a policy applied after it (REQUIRED_SCOPES is the /protected route's policy).
  it('a scopes policy after verification: missing scopes are 403 insufficient_scope naming them', async () => {
    const policy = compilePolicy({ scopes: ['read:data', 'write:data'] });
    for (const claims of [{}, { scope: 'read:data' }, { scp: ['write:data'] }, { scope: 'read:datawrite:data' }, { scope: ['read:data', 'write:data'] }]) {
      const verified = await verifier()(await sign(claims));
      const error = catchError(() => policy.check({ claims: verified.claims, profile: { sub: verified.claims.sub, exp: verified.claims.exp } }));
      assert.ok(error instanceof KeygateError && error.status === 403 && error.code === 'insufficient_scope', String(error));
      assert.match(error.headers['www-authenticate']!, /scope="read:data write:data"/);
    }
  });

  it('a scopes policy passes scopes present in a scope string or an scp array', async () => {
    const policy = compilePolicy({ scopes: ['read:data', 'write:data'] });
    for (const claims of [{ scope: 'openid write:data read:data' }, { scp: ['read:data', 'write:data', 'other'] }, { scope: 'read:data', scp: ['write:data'] }]) {
      const verified = await verifier()(await sign(claims));
      policy.check({ claims: verified.claims, profile: { sub: verified.claims.sub, exp: verified.claims.exp } });
    }
  });

  it('a token signed by another key with the same kid is 401 signature invalid', async () => {
    const error = await invalid(verifier()(await sign({}, { key: otherPrivateKey })));
    assert.match(error.description, /signature/i);
  });

  it('a kid the issuer does not publish is 401', async () => {
    await invalid(verifier()(await sign({}, { header: { alg: 'RS256', kid: 'unknown' } })), /kid/);
  });

  it('a key set that cannot be reached fails closed with 503 temporarily_unavailable', async () => {
    const v = verifier({
      keys: async () => {
        throw new TypeError('fetch failed');
      },
    });
    const error = await rejects(v(await sign()), 503, 'temporarily_unavailable');
    assert.ok(error instanceof UnavailableError);
  });

  it('a JWKS timeout fails closed with 503', async () => {
    const v = verifier({
      keys: async () => {
        throw new jose.errors.JWKSTimeout();
      },
    });
    await rejects(v(await sign()), 503, 'temporarily_unavailable');
  });
});

describe('canonical form', () => {
  it('a segment with = padding is refused', async () => {
    const token = await sign();
    const [h, p, s] = token.split('.');
    for (const variant of [`${h}=.${p}.${s}`, `${h}.${p}=.${s}`, `${h}.${p}.${s}=`, `${h}.${p}.${s}==`]) {
      assert.throws(() => assertCanonical(variant), (e: unknown) => e instanceof KeygateError && e.status === 401 && e.code === 'invalid_token');
      await invalid(verifier()(variant), /^The token is damaged or not a JWT\.$/);
    }
  });

  it('a final character with non-zero trailing bits (same bytes) is refused', async () => {
    const token = await sign();
    const [h, p, s] = token.split('.') as [string, string, string];
    // An RS256 (2048-bit) signature is 256 bytes: 342 characters, the last one carries 2 data bits and 4 padding bits.
    assert.equal(s.length % 4, 2);
    const last = ALPHABET.indexOf(s.at(-1)!);
    assert.equal(last & 0b1111, 0, 'the genuine encoding has zero trailing bits');
    for (const bits of [1, 0b0101, 0b1111]) {
      const tweaked = `${s.slice(0, -1)}${ALPHABET[last | bits]}`;
      assert.deepEqual(Buffer.from(tweaked, 'base64url'), Buffer.from(s, 'base64url'), 'decodes to the same signature bytes');
      const variant = `${h}.${p}.${tweaked}`;
      assert.throws(() => assertCanonical(variant), KeygateError);
      await invalid(verifier()(variant), /^The token is damaged or not a JWT\.$/);
    }
  });

  it('whitespace anywhere is refused', async () => {
    const token = await sign();
    const dot = token.indexOf('.');
    for (const variant of [` ${token}`, `${token} `, `${token}\n`, `${token.slice(0, dot)} ${token.slice(dot)}`, `${token.slice(0, 10)}\t${token.slice(10)}`]) {
      assert.throws(() => assertCanonical(variant), KeygateError, JSON.stringify(variant.slice(0, 12)));
      await invalid(verifier()(variant), /^The token is damaged or not a JWT\.$/);
    }
  });

  it('standard base64 characters (+ /) are refused', async () => {
    const token = await sign();
    const variant = token.replace(/-/g, '+').replace(/_/g, '/');
    assert.notEqual(variant, token, 'the test token contains - or _');
    await invalid(verifier()(variant), /^The token is damaged or not a JWT\.$/);
  });

  it('a 5-part JWE-looking token is refused', async () => {
    const jwe = 'eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.AAAA.BBBB.CCCC.DDDD';
    assert.throws(() => assertCanonical(jwe), (e: unknown) => e instanceof KeygateError && /JWE|encrypt/i.test(e.description));
    await invalid(verifier()(jwe), /JWE|encrypt/i);
  });

  it('other part counts and empty segments are refused', async () => {
    for (const variant of ['abc', 'a.b', 'a.b.c.d', '..', 'a..c', '']) {
      assert.throws(() => assertCanonical(variant), KeygateError, JSON.stringify(variant));
    }
  });

  it('an oversized token is refused', async () => {
    const huge = await sign({ blob: 'x'.repeat(20_000) });
    await invalid(verifier()(huge), /long/);
  });

  it('agrees with a decode/re-encode round trip on 20,000 random segments of every length class', () => {
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const length = 1 + (i % 12);
      let segment = '';
      for (let j = 0; j < length; j++) segment += ALPHABET[Math.floor(Math.random() * 64)];
      const roundTrip = Buffer.from(segment, 'base64url').toString('base64url') === segment;
      const token = `${segment}.${segment}.${segment}`;
      let ok = true;
      try {
        assertCanonical(token);
      } catch {
        ok = false;
      }
      assert.equal(ok, roundTrip, segment);
      if (ok) accepted++;
    }
    assert.ok(accepted > 5_000 && accepted < 15_000, `both answers were exercised (${accepted} accepted)`);
  });

  it('a genuine token is canonical', async () => {
    assert.doesNotThrow(() => assertCanonical('eyJhbGciOiJSUzI1NiJ9.e30.AAAA'));
    const token = await sign();
    assert.doesNotThrow(() => assertCanonical(token));
  });
});

describe('tokenKey', () => {
  it('is stable for the same string and differs for different tokens', async () => {
    const a = await sign({ jti: 'a' });
    const b = await sign({ jti: 'b' });
    assert.equal(tokenKey(a), tokenKey(a));
    assert.equal(tokenKey(`${a}`), tokenKey(a.slice(0) + ''));
    assert.notEqual(tokenKey(a), tokenKey(b));
    assert.notEqual(tokenKey(a), tokenKey(`${a.slice(0, -1)}${a.at(-1) === 'A' ? 'B' : 'A'}`));
  });

  it('does not reveal the token', async () => {
    const token = await sign();
    const key = tokenKey(token);
    assert.ok(!token.includes(key) && !key.includes(token.split('.')[2]!));
    assert.match(key, /^[A-Za-z0-9_-]{43}$/);
  });
});

function catchError(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
