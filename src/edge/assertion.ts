import { createECDH, createHash, createPrivateKey, hkdfSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

/** Longest life of an identity assertion, in seconds (the upstream sees a fresh one on every request anyway). */
export const ASSERTION_LIFETIME = 60;
/** A cached assertion is handed out again while it has at least this many seconds left. */
const REUSE_MIN_LEFT = 30;

/** P-256 group order: a private scalar is in [1, n-1]. */
const ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

export interface AssertionKey {
  kid: string;
  privateKey: KeyObject;
  /** The public JWK as `/.well-known/jwks.json` publishes it. */
  jwk: JWK;
}

/**
 * The assertion signing key of one `SECRET_KEY` entry: HKDF-SHA256 (a fixed salt and purpose label, so it is
 * independent of the cookie keys made from the same secret) gives 48 bytes, reduced into [1, n-1] as FIPS 186-5
 * A.2.1 does. Every instance that shares the secret derives the same key, with no key file to distribute.
 * The kid is the RFC 7638 thumbprint of the public key.
 */
export function deriveAssertionKey(secret: string): AssertionKey {
  const okm = Buffer.from(hkdfSync('sha256', secret, 'keygate', 'keygate identity assertion ES256 v1', 48));
  const scalar = (BigInt(`0x${okm.toString('hex')}`) % (ORDER - 1n)) + 1n;
  const d = Buffer.from(scalar.toString(16).padStart(64, '0'), 'hex');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey();
  const x = point.subarray(1, 33).toString('base64url');
  const y = point.subarray(33, 65).toString('base64url');
  const kid = createHash('sha256').update(`{"crv":"P-256","kty":"EC","x":"${x}","y":"${y}"}`).digest('base64url');
  const privateKey = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', x, y, d: d.toString('base64url') }, format: 'jwk' });
  return { kid, privateKey, jwk: { kty: 'EC', crv: 'P-256', x, y, kid, alg: 'ES256', use: 'sig' } };
}

export interface AssertionSignerOptions {
  /** `SECRET_KEY` entries: the first signs, all are published (rotation: add the new key first, drop the old later). */
  secretKeys: readonly string[];
  /** `iss` of every assertion: Keygate's `BASE_URL` (without a trailing slash). */
  issuer: string;
  /** Most assertions kept for reuse. */
  cacheSize?: number;
  now?: () => number;
}

export interface AssertionSubject {
  sub: string;
  email: string;
  /** What identifies the credential (the verified token's key): assertions are reused per credential and audience. */
  key: string;
}

export interface AssertionSigner {
  /** An ES256 JWT: iss, aud (the upstream's origin), sub, email, iat, exp ≤ 60 s later. Synchronous (see below). */
  sign(subject: AssertionSubject, audience: string): string;
  /** The public keys, as served at `/.well-known/jwks.json`. */
  readonly jwks: { keys: readonly JWK[] };
}

/**
 * Signs identity assertions for upstreams, reusing one per (credential, audience) for a few seconds.
 *
 * The JWS is put together here and signed by node:crypto (`dsaEncoding: 'ieee-p1363'`: R || S, as RFC 7518 §3.4
 * wants), not by jose's `SignJWT`: on Node 20 jose signs through WebCrypto, a promise and a thread-pool job per
 * assertion, about 130 µs against 46 µs here (`bench/sign-micro.ts`), and every credential's
 * assertion is signed again each 30 s. What is signed is fixed and ours (header and claims below); the tests verify
 * every assertion with jose (`jwtVerify` against the published JWKS), as an upstream does.
 */
export function createAssertionSigner(options: AssertionSignerOptions): AssertionSigner {
  const keys = options.secretKeys.map(deriveAssertionKey);
  const signing = keys[0];
  if (signing === undefined) throw new TypeError('createAssertionSigner: at least one secret key is needed');
  const now = options.now ?? Date.now;
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: signing.kid, typ: 'JWT' })).toString('base64url');
  const privateKey = signing.privateKey;
  const maxEntries = options.cacheSize ?? 20_000;
  // Audience, then credential: both strings are the same objects request after request (the origin's memo, the
  // verified token's key), so a look-up hashes nothing new. Bounded in total; the oldest audience's oldest go first.
  const cache = new Map<string, Map<string, { jwt: string; exp: number }>>();
  let size = 0;
  const jwks = Object.freeze({ keys: Object.freeze(keys.map((k) => Object.freeze(k.jwk))) });

  function remember(audience: string, key: string, entry: { jwt: string; exp: number }): void {
    let byKey = cache.get(audience);
    if (byKey === undefined) cache.set(audience, (byKey = new Map()));
    if (byKey.delete(key)) size--;
    // Full: the oldest entry of the oldest audience goes (an audience left empty goes with it).
    for (const [oldestAudience, oldest] of cache) {
      if (size < maxEntries) break;
      const first = oldest.keys().next();
      if (!first.done) {
        oldest.delete(first.value);
        size--;
      }
      if (oldest.size === 0 && oldest !== byKey) cache.delete(oldestAudience);
    }
    byKey.set(key, entry);
    size++;
  }

  function sign(subject: AssertionSubject, audience: string): string {
    const seconds = Math.floor(now() / 1000);
    const hit = cache.get(audience)?.get(subject.key);
    if (hit !== undefined && hit.exp - seconds >= REUSE_MIN_LEFT) return hit.jwt;
    const exp = seconds + ASSERTION_LIFETIME;
    const claims = { iss: options.issuer, aud: audience, sub: subject.sub, email: subject.email, iat: seconds, exp };
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const signature = cryptoSign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const jwt = `${input}.${signature.toString('base64url')}`;
    remember(audience, subject.key, { jwt, exp });
    return jwt;
  }

  return Object.freeze({ sign, jwks });
}
