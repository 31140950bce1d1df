import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { createAssertionSigner, deriveAssertionKey } from '../../src/edge/assertion.js';
import { allowedAbsoluteUrl } from '../../src/edge/redirect.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const subject = { sub: 'user-1', email: 'ann@example.com', key: 'token-key-1' };

describe('identity assertion keys', () => {
  it('every instance sharing a secret derives the same key; another secret another key; kid is the RFC 7638 thumbprint', async () => {
    const one = deriveAssertionKey(A);
    const two = deriveAssertionKey(A);
    assert.deepEqual(one.jwk, two.jwk);
    assert.notEqual(deriveAssertionKey(B).jwk.x, one.jwk.x);
    assert.equal(one.kid, await jose.calculateJwkThumbprint(one.jwk));
    assert.equal(one.jwk.d, undefined, 'the published JWK has no private part');
  });

  it('an assertion signed by one instance verifies with the JWKS of another; rotation publishes old and new', async () => {
    const old = createAssertionSigner({ secretKeys: [A], issuer: 'https://kg.example' });
    const rotated = createAssertionSigner({ secretKeys: [B, A], issuer: 'https://kg.example' });
    assert.equal(rotated.jwks.keys.length, 2);
    const jwt = await old.sign(subject, 'https://app.example');
    const { payload } = await jose.jwtVerify(jwt, jose.createLocalJWKSet({ keys: [...rotated.jwks.keys] }), {
      issuer: 'https://kg.example',
      audience: 'https://app.example',
      algorithms: ['ES256'],
    });
    assert.equal(payload.sub, 'user-1');
    assert.equal(payload.email, 'ann@example.com');
    assert.equal(payload.exp! - payload.iat!, 60);
    const fresh = await rotated.sign(subject, 'https://app.example');
    assert.equal(jose.decodeProtectedHeader(fresh).kid, deriveAssertionKey(B).kid, 'the first key signs');
  });

  it('is reused per credential and audience while it has 30 s left, then signed anew', async () => {
    let now = 1_700_000_000_000;
    const signer = createAssertionSigner({ secretKeys: [A], issuer: 'https://kg.example', now: () => now });
    const first = await signer.sign(subject, 'https://app.example');
    assert.equal(await signer.sign(subject, 'https://app.example'), first);
    assert.notEqual(await signer.sign(subject, 'https://other.example'), first, 'another audience');
    assert.notEqual(await signer.sign({ ...subject, key: 'token-key-2' }, 'https://app.example'), first, 'another credential');
    now += 30_000;
    assert.equal(await signer.sign(subject, 'https://app.example'), first);
    now += 1_000;
    assert.notEqual(await signer.sign(subject, 'https://app.example'), first);
  });

  it('the cache stays bounded: the oldest entry leaves first', async () => {
    let now = 1_700_000_000_000;
    const signer = createAssertionSigner({ secretKeys: [A], issuer: 'https://kg.example', cacheSize: 2, now: () => now });
    const one = await signer.sign({ ...subject, key: '1' }, 'https://app.example');
    const two = await signer.sign({ ...subject, key: '2' }, 'https://app.example');
    await signer.sign({ ...subject, key: '3' }, 'https://app.example');
    now += 1_000;
    assert.notEqual(await signer.sign({ ...subject, key: '1' }, 'https://app.example'), one, '"1" was evicted and signed anew');
    assert.notEqual(await signer.sign({ ...subject, key: '2' }, 'https://app.example'), two, '"2" was evicted by the new "1"');
  });

  it('the bound holds across audiences: the oldest audience gives up its oldest entry first', () => {
    let now = 1_700_000_000_000;
    const signer = createAssertionSigner({ secretKeys: [A], issuer: 'https://kg.example', cacheSize: 2, now: () => now });
    const one = { ...subject, key: '1' };
    const a1 = signer.sign(one, 'https://a.example');
    const b1 = signer.sign(one, 'https://b.example');
    assert.equal(signer.sign(one, 'https://a.example'), a1, 'both fit');
    now += 1_000; // a new signature differs from the old one (iat, exp)
    const c1 = signer.sign(one, 'https://c.example');
    assert.equal(signer.sign(one, 'https://b.example'), b1, 'b kept');
    assert.equal(signer.sign(one, 'https://c.example'), c1, 'c kept');
    assert.notEqual(signer.sign(one, 'https://a.example'), a1, 'a, the oldest audience, lost its entry to c and was signed anew');
    assert.notEqual(signer.sign(one, 'https://b.example'), b1, 'b, then the oldest, made room for the new a');
  });
});

describe('allowedAbsoluteUrl (ALLOWED_REDIRECT_HOSTS)', () => {
  const hosts = ['app.example.test', 'api.example.test:8443'];
  it('follows listed hosts (any port) and host:port entries (that port only)', () => {
    assert.equal(allowedAbsoluteUrl('https://app.example.test/a?b=1', hosts), 'https://app.example.test/a?b=1');
    assert.equal(allowedAbsoluteUrl('http://APP.example.test:8080/', hosts), 'http://app.example.test:8080/');
    assert.equal(allowedAbsoluteUrl('https://api.example.test:8443/x', hosts), 'https://api.example.test:8443/x');
    assert.equal(allowedAbsoluteUrl('https://api.example.test/x', hosts), undefined);
  });
  it('refuses everything else', () => {
    for (const value of [
      'https://evil.test/', 'https://app.example.test.evil.test/', 'https://evil.test\\@app.example.test/', 'https://user:pw@app.example.test/',
      'https://app.example.test\t/', 'ftp://app.example.test/', '//app.example.test/', 'https:app.example.test', `https://app.example.test/${'a'.repeat(3000)}`,
    ]) assert.equal(allowedAbsoluteUrl(value, hosts), undefined, value);
    assert.equal(allowedAbsoluteUrl('https://app.example.test/', []), undefined);
  });
});
