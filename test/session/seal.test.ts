import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldSealer } from '../../src/session/seal.js';

const K1 = 'first-secret-key-0123456789abcdefghij';
const K2 = 'second-secret-key-0123456789abcdefghi';

describe('FieldSealer (AES-256-GCM for stored tokens)', () => {
  it('round-trips, and never shows the plaintext or repeats a ciphertext', () => {
    const sealer = new FieldSealer([K1]);
    const a = sealer.seal('eyJ.secret.token', 'sid-1:apiToken');
    const b = sealer.seal('eyJ.secret.token', 'sid-1:apiToken');
    assert.notEqual(a, b, 'a fresh IV each time');
    assert.ok(!a.includes('secret'));
    assert.match(a, /^g1\.[\w-]{8}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(sealer.open(a, 'sid-1:apiToken'), 'eyJ.secret.token');
  });

  it('refuses another context (session or field), a tampered value, garbage and an unknown key', () => {
    const sealer = new FieldSealer([K1]);
    const sealed = sealer.seal('token', 'sid-1:refreshToken');
    assert.equal(sealer.open(sealed, 'sid-2:refreshToken'), undefined);
    assert.equal(sealer.open(sealed, 'sid-1:idToken'), undefined);
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    assert.equal(sealer.open(parts.join('.'), 'sid-1:refreshToken'), undefined);
    for (const garbage of ['', 'plain-token', 'g1.x.y.z', 'g1.a.b.c.d', 'g2' + sealed.slice(2)]) assert.equal(sealer.open(garbage, 'sid-1:refreshToken'), undefined, garbage);
    assert.equal(new FieldSealer([K2]).open(sealed, 'sid-1:refreshToken'), undefined);
  });

  it('rotation: the first key seals, every key opens', () => {
    const old = new FieldSealer([K1]).seal('token', 'ctx');
    const rotated = new FieldSealer([K2, K1]);
    assert.equal(rotated.open(old, 'ctx'), 'token');
    const fresh = rotated.seal('token', 'ctx');
    assert.equal(new FieldSealer([K2]).open(fresh, 'ctx'), 'token');
    assert.equal(new FieldSealer([K1]).open(fresh, 'ctx'), undefined);
  });

  it('needs a key', () => {
    assert.throws(() => new FieldSealer([]), TypeError);
  });
});
