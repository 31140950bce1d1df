import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAttackerHost, startHostileOp, CLIENT_ID, CLIENT_SECRET, type AttackerHost, type HostileOp } from './hostile-op.js';
import { DOORS, keygateAgainst, protectedCall, type KeygateUnderTest } from './harness.js';
import { b64u, derSignature, jws, makeKey, publicKeyForms, type Json, type Signer } from './jws.js';

/**
 * Bearer verification (BV-*): hostile tokens at GET /protected. Keygate runs with REQUIRE_SESSION=false so that
 * the verifier alone decides (a forged token cannot be stopped by the session lookup by luck); BV-01 is the
 * control that the same set-up accepts a genuine token.
 */
// Every case runs at two doors: Keygate's server and a user's own API with the library (createKeygate).
for (const door of DOORS) {
  describe(`bearer verification against a hostile provider (${door})`, () => {
    const against: typeof keygateAgainst = (op, env, deps, now) => keygateAgainst(op, env, deps, now, door);
    let op: HostileOp;
    let attacker: AttackerHost;
    let kg: KeygateUnderTest; // RS256 only (the default)
    let kgHs: KeygateUnderTest; // RS256 and HS256 (client secret)
    let kgEs: KeygateUnderTest; // RS256 and ES256
    let kgAt: KeygateUnderTest; // AUDIENCE set: access tokens required
    const ecKey = makeKey('op-ec-1', 'ES256');
    const weakKey = makeKey('op-weak-1', 'RS256', 1024);
    const API = 'https://api.example.test';

    before(async () => {
      op = await startHostileOp();
      attacker = await startAttackerHost({ keys: [op.attackerKey.jwk] });
      op.keys = [op.keys[0]!, ecKey, weakKey];
      kg = await against(op, { REQUIRE_SESSION: 'false' });
      kgHs = await against(op, { REQUIRE_SESSION: 'false', TOKEN_ALGORITHMS: 'RS256,HS256' });
      kgEs = await against(op, { REQUIRE_SESSION: 'false', TOKEN_ALGORITHMS: 'RS256,ES256' });
      kgAt = await against(op, { REQUIRE_SESSION: 'false', AUDIENCE: API });
    });
    after(async () => {
      await Promise.all([kg.close(), kgHs.close(), kgEs.close(), kgAt.close()]);
      await op.close();
      await attacker.close();
    });

    const own = () => ({ key: op.keys[0]! });
    /** The provider's default ID token claims and header, with changes; `undefined` removes a member. */
    const token = (claims: Json = {}, header: Json = {}, signer: Signer = own()) => op.idToken({ claims, header, signer });
    const now = () => Math.floor(Date.now() / 1000);

    async function refused(k: KeygateUnderTest, value: string, status = 401, error = status === 400 ? 'invalid_request' : 'invalid_token') {
      const r = await protectedCall(k, `Bearer ${value}`);
      assert.equal(r.status, status, `${JSON.stringify(r.body)} for ${value.slice(0, 80)}`);
      assert.equal(r.error, error);
      assert.match(r.challenge ?? '', new RegExp(`^Bearer error="${error}"`));
      return r;
    }
    async function accepted(k: KeygateUnderTest, value: string) {
      const r = await protectedCall(k, `Bearer ${value}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r;
    }

    it('BV-01 a genuine token signed by the provider is accepted (control for every BV case)', async () => {
      const r = await accepted(kg, token());
      assert.equal(r.body.sub, 'user-1');
      await accepted(kgHs, token());
    });

    it('BV-02 alg "none" with an empty signature is refused', async () => {
      await refused(kg, token({}, { alg: 'none', kid: undefined }, { none: true }));
      await refused(kgHs, token({}, { alg: 'none', kid: undefined }, { none: true }));
    });

    it('BV-03 alg none in any casing (None, NONE, nOnE) is refused', async () => {
      for (const alg of ['None', 'NONE', 'nOnE', 'none ']) await refused(kg, token({}, { alg }, { none: true }));
    });

    it('BV-04 alg none that keeps a genuine RS256 signature is refused', async () => {
      const good = token().split('.');
      const header = b64u(JSON.stringify({ alg: 'none', typ: 'JWT' }));
      await refused(kg, `${header}.${good[1]}.${good[2]}`);
    });

    it('BV-05 HS256 signed with the RSA public key as PEM is refused (HS not allowed)', async () => {
      await refused(kg, token({}, { alg: 'HS256' }, { hmac: publicKeyForms(op.keys[0]!).pem }));
    });

    it('BV-06 HS256 signed with the RSA public key as PEM is refused even where HS256 is allowed', async () => {
      await refused(kgHs, token({}, { alg: 'HS256' }, { hmac: publicKeyForms(op.keys[0]!).pem }));
    });

    it('BV-07 HS256 signed with the RSA public key as DER is refused', async () => {
      const { der } = publicKeyForms(op.keys[0]!);
      await refused(kg, token({}, { alg: 'HS256' }, { hmac: der }));
      await refused(kgHs, token({}, { alg: 'HS256' }, { hmac: der }));
    });

    it('BV-08 HS256 signed with the public JWK (JSON text) is refused', async () => {
      const { jwk } = publicKeyForms(op.keys[0]!);
      await refused(kg, token({}, { alg: 'HS256' }, { hmac: jwk }));
      await refused(kgHs, token({}, { alg: 'HS256' }, { hmac: jwk }));
    });

    it('BV-09 HS256 signed with the client secret is refused unless TOKEN_ALGORITHMS lists HS256', async () => {
      const t = token({}, { alg: 'HS256', kid: undefined }, { hmac: CLIENT_SECRET });
      await refused(kg, t);
      await accepted(kgHs, t);
    });

    it('BV-10 algorithms outside the allowlist (RS384, RS512, PS256, HS512) are refused although the signature is valid', async () => {
      for (const alg of ['RS384', 'RS512', 'PS256']) await refused(kg, token({}, { alg }));
      await refused(kgHs, token({}, { alg: 'HS512', kid: undefined }, { hmac: CLIENT_SECRET }));
    });

    it('BV-11 a tampered payload (other sub, same signature) is refused', async () => {
      const [h, , s] = token().split('.');
      await refused(kg, `${h}.${b64u(JSON.stringify(op.defaultClaims({ sub: 'admin' })))}.${s}`);
    });

    it('BV-12 a truncated signature is refused', async () => {
      const t = token();
      await refused(kg, t.slice(0, t.length - 8));
      await refused(kg, t.slice(0, t.lastIndexOf('.') + 12));
    });

    it('BV-13 an empty signature (header.payload.) is refused', async () => {
      const t = token();
      await refused(kg, t.slice(0, t.lastIndexOf('.') + 1));
    });

    it('BV-14 a padded signature ("=" or "==" appended) is refused as non-canonical base64url', async () => {
      const t = token();
      await refused(kg, `${t}=`);
      await refused(kg, `${t}==`);
    });

    it('BV-15 exp missing is refused', async () => {
      await refused(kg, token({ exp: undefined }));
    });

    it('BV-16 exp in the past (beyond the clock tolerance) is refused', async () => {
      await refused(kg, token({ iat: now() - 600, exp: now() - 120 }));
    });

    it('BV-17 exp as a string, boolean or object is refused', async () => {
      for (const exp of [String(now() + 600), true, { n: 1 }, null]) await refused(kg, token({ exp }));
    });

    it('BV-18 exp huge (1e20, far beyond MAX_TOKEN_LIFETIME) is refused', async () => {
      await refused(kg, token({ exp: 1e20 }));
      await refused(kg, token({ exp: now() + 2 * 86_400 }));
    });

    it('BV-19 exp negative or zero is refused', async () => {
      for (const exp of [-1, 0, -1e20]) await refused(kg, token({ exp }));
    });

    it('BV-20 nbf in the future (beyond the clock tolerance) is refused', async () => {
      await refused(kg, token({ nbf: now() + 300 }));
      await refused(kg, token({ nbf: 'soon' }));
    });

    it('BV-21 iat missing is refused', async () => {
      await refused(kg, token({ iat: undefined }));
    });

    it('BV-22 iat in the future is refused', async () => {
      await refused(kg, token({ iat: now() + 300 }));
    });

    it('BV-23 iat non-numeric or negative is refused', async () => {
      for (const iat of ['yesterday', -5, null]) await refused(kg, token({ iat }));
    });

    it('BV-24 iss with a trailing slash added is refused (exact match)', async () => {
      await refused(kg, token({ iss: `${op.issuer}/` }));
    });

    it('BV-25 iss of another tenant on the same host is refused', async () => {
      await refused(kg, token({ iss: `${op.issuer}/tenant-b` }));
      await refused(kg, token({ iss: op.issuer.replace('127.0.0.1', 'localhost') }));
    });

    it('BV-26 iss missing or not a string is refused', async () => {
      await refused(kg, token({ iss: undefined }));
      await refused(kg, token({ iss: [op.issuer] }));
    });

    it('BV-27 aud missing is refused', async () => {
      await refused(kg, token({ aud: undefined }));
    });

    it('BV-28 aud of another client is refused', async () => {
      await refused(kg, token({ aud: 'other-client', azp: undefined }));
      await refused(kg, token({ aud: `${CLIENT_ID} ` }));
    });

    it('BV-29 aud numeric, object or null is refused', async () => {
      for (const aud of [123, { id: CLIENT_ID }, null]) await refused(kg, token({ aud }));
    });

    it('BV-30 aud array: accepted with our id and azp naming us; refused without our id or with azp of another client', async () => {
      await accepted(kg, token({ aud: [CLIENT_ID, 'other'], azp: CLIENT_ID }));
      await refused(kg, token({ aud: ['other', 'third'] }));
      await refused(kg, token({ aud: [CLIENT_ID, 'other'], azp: 'other' }));
    });

    it('BV-31 an ID token where an access token (AUDIENCE) is required is refused', async () => {
      await refused(kgAt, token());
      await accepted(kgAt, token({ aud: API, azp: undefined }, { typ: 'at+jwt' }));
    });

    it('BV-32 typ other than JWT or at+jwt (JWE, secevent+jwt, dpop+jwt, number) is refused', async () => {
      for (const typ of ['JWE', 'secevent+jwt', 'dpop+jwt', 'logout+jwt', 7]) await refused(kg, token({}, { typ }));
    });

    it('BV-33 crit naming an unknown extension is refused', async () => {
      await refused(kg, token({}, { crit: ['urn:example:unknown'], 'urn:example:unknown': true }));
      await refused(kg, token({}, { crit: ['exp'] }));
    });

    it('BV-34 crit empty or not an array of strings is refused', async () => {
      for (const crit of [[], 'b64', [1], [''], null]) await refused(kg, token({}, { crit }));
    });

    it('BV-35 b64: false (unencoded payload) is refused', async () => {
      await refused(kg, token({}, { b64: false, crit: ['b64'] }));
      await refused(kg, token({}, { b64: false }));
    });

    it('BV-36 a jku header pointing at the attacker host, signed with the attacker key, is refused and never fetched', async () => {
      const before = attacker.requests.length;
      await refused(kg, token({}, { jku: `${attacker.origin}/jwks.json` }, { key: op.attackerKey }));
      assert.equal(attacker.requests.length, before);
    });

    it('BV-37 an x5u header pointing at the attacker host is refused and never fetched', async () => {
      const before = attacker.requests.length;
      await refused(kg, token({}, { x5u: `${attacker.origin}/cert.pem` }, { key: op.attackerKey }));
      assert.equal(attacker.requests.length, before);
    });

    it('BV-38 an embedded jwk header with the attacker key is refused', async () => {
      await refused(kg, token({}, { jwk: op.attackerKey.jwk }, { key: op.attackerKey }));
    });

    it('BV-39 an embedded x5c chain is refused (keys come only from the issuer JWKS)', async () => {
      const der = op.attackerKey.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
      await refused(kg, token({}, { x5c: [der] }, { key: op.attackerKey }));
    });

    it('BV-40 a path-traversal kid is refused', async () => {
      await refused(kg, token({}, { kid: '../../../../etc/passwd' }));
      await refused(kg, token({}, { kid: '/dev/random' }));
    });

    it('BV-41 a URL kid is refused and never fetched', async () => {
      const before = attacker.requests.length;
      await refused(kg, token({}, { kid: `${attacker.origin}/key` }));
      assert.equal(attacker.requests.length, before);
    });

    it('BV-42 a 10 kB kid is refused', async () => {
      await refused(kg, token({}, { kid: 'k'.repeat(10_240) }));
    });

    it('BV-43 a non-string kid (number, object, array, null) is refused even with a genuine signature', async () => {
      for (const kid of [1, { x: 1 }, ['op-key-1'], null, true]) await refused(kg, token({}, { kid }));
    });

    it('BV-44 duplicate header members ("alg" twice) are refused', async () => {
      const key = op.keys[0]!;
      const header = `{"alg":"none","alg":"RS256","kid":"${key.kid}","typ":"JWT"}`;
      await refused(kg, jws({ header, payload: op.defaultClaims(), signer: { key }, alg: 'RS256' }));
    });

    it('BV-45 duplicate payload members ("sub" twice) are refused', async () => {
      const key = op.keys[0]!;
      const claims = JSON.stringify(op.defaultClaims());
      const payload = `${claims.slice(0, -1)},"sub":"admin"}`;
      await refused(kg, jws({ header: { alg: 'RS256', kid: key.kid }, payload, signer: { key } }));
    });

    it('BV-46 invalid UTF-8 in the header or payload is refused', async () => {
      const key = op.keys[0]!;
      const claims = JSON.stringify(op.defaultClaims({ name: 'XX' }));
      const payload = Buffer.from(claims.replace('XX', '\u0000\u0000'), 'utf8');
      payload[payload.indexOf(0)] = 0xc3;
      payload[payload.indexOf(0)] = 0x28; // C3 28: an invalid two-byte sequence
      await refused(kg, jws({ header: { alg: 'RS256', kid: key.kid }, payload, signer: { key } }));
      const header = Buffer.from(`{"alg":"RS256","kid":"${key.kid}","x":"\u0000"}`);
      header[header.indexOf(0)] = 0xff;
      await refused(kg, jws({ header, payload: op.defaultClaims(), signer: { key }, alg: 'RS256' }));
    });

    it('BV-47 a JWE (five segments) is refused', async () => {
      const h = b64u(JSON.stringify({ alg: 'dir', enc: 'A256GCM' }));
      await refused(kg, `${h}..${b64u('iv-iv-iv-iv-')}.${b64u('ciphertext')}.${b64u('tag-tag-tag-tag-')}`);
      await refused(kg, `${h}.a.b.c.d.e`);
    });

    it('BV-48 a nested token (cty JWT, payload another JWT) is refused', async () => {
      const key = op.keys[0]!;
      const inner = token();
      await refused(kg, jws({ header: { alg: 'RS256', kid: key.kid, cty: 'JWT' }, payload: inner, signer: { key } }));
    });

    it('BV-49 a token signed with a 1024-bit RSA key published by the issuer is refused', async () => {
      await refused(kg, token({}, {}, { key: weakKey }));
    });

    it('BV-50 ES256 with an all-zero signature is refused', async () => {
      await refused(kgEs, token({}, { alg: 'ES256', kid: ecKey.kid }, { signature: b64u(Buffer.alloc(64)) }));
      await accepted(kgEs, token({}, {}, { key: ecKey }));
    });

    it('BV-51 ES256 with a DER-encoded signature (not r||s) is refused', async () => {
      const header = b64u(JSON.stringify({ alg: 'ES256', kid: ecKey.kid, typ: 'JWT' }));
      const payload = b64u(JSON.stringify(op.defaultClaims()));
      await refused(kgEs, `${header}.${payload}.${derSignature(ecKey, `${header}.${payload}`)}`);
    });

    it('BV-52 a valid signature with a key that is not the issuer\'s (same kid) is refused', async () => {
      await refused(kg, token({}, {}, { key: op.attackerKey }));
    });

    it('BV-53 a genuine token of another issuer (its own key and iss) is refused', async () => {
      const other = makeKey('other-1');
      await refused(kg, token({ iss: 'https://other-issuer.example/' }, { kid: other.kid }, { key: other }));
    });

    it('BV-54 non-zero trailing bits in a segment (a second encoding of the same bytes) are refused', async () => {
      const t = token();
      const [h, p, s] = t.split('.') as [string, string, string];
      // 256-byte RSA signature → 342 base64url chars with 2 unused bits in the last one.
      const last = s.at(-1)!;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const twin = alphabet[alphabet.indexOf(last) | 1]!;
      assert.notEqual(twin, last);
      assert.deepEqual(Buffer.from(s.slice(0, -1) + twin, 'base64url'), Buffer.from(s, 'base64url'));
      await refused(kg, `${h}.${p}.${s.slice(0, -1)}${twin}`);
    });

    it('BV-55 standard base64 characters (+ and /) instead of base64url are refused', async () => {
      const t = token();
      const [h, p, s] = t.split('.') as [string, string, string];
      const std = Buffer.from(s, 'base64url').toString('base64').replace(/=+$/, '');
      assert.notEqual(std, s);
      await refused(kg, `${h}.${p}.${std}`);
    });

    it('BV-56 padding inside a segment or whitespace inside the token is refused', async () => {
      const [h, p, s] = token().split('.') as [string, string, string];
      await refused(kg, `${h}==.${p}.${s}`, 400);
      await refused(kg, `${h}. ${p}.${s}`, 400);
      await refused(kg, `${h}.${p}\t.${s}`, 400);
    });

    it('BV-57 a token longer than 16 kB is refused without verification', async () => {
      await refused(kg, token({ pad: 'x'.repeat(17_000) }));
    });

    it('BV-58 sub missing, empty or not a string is refused', async () => {
      for (const sub of [undefined, '', 42]) await refused(kg, token({ sub }));
    });

    it('BV-59 azp naming another client is refused', async () => {
      await refused(kg, token({ azp: 'other-client' }));
    });

    it('BV-60 a lifetime (exp − iat) longer than MAX_TOKEN_LIFETIME is refused', async () => {
      await refused(kg, token({ iat: now() - 10, exp: now() + 86_400 }));
    });

    it('BV-61 a payload that is JSON but not an object (array, string, number) is refused', async () => {
      const key = op.keys[0]!;
      for (const payload of ['[1,2]', '"claims"', '42', 'null']) await refused(kg, jws({ header: { alg: 'RS256', kid: key.kid }, payload, signer: { key } }));
    });

    it('BV-63 nbf and iat huge (1e20) or fractional far ahead are refused; nbf absent or in the past is fine', async () => {
      await refused(kg, token({ nbf: 1e20 }));
      await refused(kg, token({ iat: 1e20, exp: 1e20 + 60 }));
      await refused(kg, token({ nbf: now() + 3600.5 }));
      await accepted(kg, token({ nbf: now() - 60 }));
      await accepted(kg, token({ nbf: undefined }));
    });

    it('BV-62 a header that is not a JSON object (array, garbage) is refused', async () => {
      const key = op.keys[0]!;
      for (const header of ['["RS256"]', 'not json', '']) await refused(kg, jws({ header, payload: op.defaultClaims(), signer: { key }, alg: 'RS256' }));
    });
  });
}
