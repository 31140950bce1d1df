import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as jose from 'jose';
import { BACKCHANNEL_LOGOUT_EVENT, verifyLogoutToken, type LogoutTokenOptions } from '../../src/token/logout-token.js';

const ISSUER = 'https://op.example.com/';
const CLIENT = 'keygate-client';
const NOW = 1_760_000_000;

describe('verifyLogoutToken (Back-Channel Logout 1.0 §2.6)', () => {
  let key: jose.CryptoKey;
  let otherKey: jose.CryptoKey;
  let options: LogoutTokenOptions;

  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: ISSUER, aud: CLIENT, iat: NOW, exp: NOW + 120, jti: 'j1', sub: 'user-1', sid: 'sid-1',
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, ...extra,
  });
  const sign = (payload: Record<string, unknown>, header: jose.JWTHeaderParameters = { alg: 'RS256', kid: 'k1', typ: 'logout+jwt' }, signer = key) =>
    new jose.SignJWT(payload).setProtectedHeader(header).sign(signer);
  const refused = async (token: string, pattern: RegExp) =>
    assert.rejects(verifyLogoutToken(token, options), (error: { status?: number; code?: string; description?: string }) => {
      assert.equal(error.status, 400);
      assert.equal(error.code, 'invalid_request');
      assert.match(error.description ?? '', pattern);
      return true;
    });

  before(async () => {
    const pair = await jose.generateKeyPair('RS256');
    key = pair.privateKey;
    otherKey = (await jose.generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await jose.exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' };
    options = { issuer: ISSUER, audience: CLIENT, algorithms: ['RS256'], keys: jose.createLocalJWKSet({ keys: [jwk] }), clockTolerance: 30, maxAge: 300, now: () => NOW * 1000 };
  });

  it('BC-01 accepts a valid token and names its sid and sub', async () => {
    assert.deepEqual(await verifyLogoutToken(await sign(claims()), options), { sub: 'user-1', sid: 'sid-1' });
  });

  it('BC-02 accepts sid alone, sub alone, an aud array holding the client, and no typ', async () => {
    assert.deepEqual(await verifyLogoutToken(await sign(claims({ sub: undefined })), options), { sid: 'sid-1' });
    assert.deepEqual(await verifyLogoutToken(await sign(claims({ sid: undefined })), options), { sub: 'user-1' });
    assert.ok(await verifyLogoutToken(await sign(claims({ aud: ['other', CLIENT] })), options));
    assert.ok(await verifyLogoutToken(await sign(claims(), { alg: 'RS256', kid: 'k1' }), options));
  });

  it('BC-03 refuses a token with neither sid nor sub', async () => {
    await refused(await sign(claims({ sid: undefined, sub: undefined })), /neither a sid nor a sub/);
  });

  it('BC-04 refuses a token with a nonce (an ID token cannot pass for a logout token)', async () => {
    await refused(await sign(claims({ nonce: 'n' })), /nonce/);
  });

  it('BC-05 refuses a missing, empty-keyed or malformed events claim', async () => {
    await refused(await sign(claims({ events: undefined })), /no events/);
    await refused(await sign(claims({ events: {} })), /back-channel logout event/);
    await refused(await sign(claims({ events: { [BACKCHANNEL_LOGOUT_EVENT]: 'yes' } })), /back-channel logout event/);
    await refused(await sign(claims({ events: [BACKCHANNEL_LOGOUT_EVENT] })), /no events/);
  });

  it('BC-06 refuses another issuer, another audience, a missing iat, an old iat and an expired token', async () => {
    await refused(await sign(claims({ iss: 'https://evil.example.com/' })), /issuer/);
    await refused(await sign(claims({ aud: 'other-client' })), /not meant/);
    await refused(await sign(claims({ iat: undefined })), /iat/);
    await refused(await sign(claims({ iat: NOW - 3600, exp: NOW + 60 })), /expired/);
    await refused(await sign(claims({ iat: NOW - 200, exp: NOW - 100 })), /expired/);
  });

  it('BC-07 refuses a wrong typ, a foreign key, alg none, HS256 and a non-canonical encoding', async () => {
    await refused(await sign(claims(), { alg: 'RS256', kid: 'k1', typ: 'at+jwt' }), /type/);
    await refused(await sign(claims(), { alg: 'RS256', kid: 'k1', typ: 'logout+jwt' }, otherKey), /signature/);
    const unsigned = new jose.UnsecuredJWT(claims()).encode();
    await refused(unsigned, /damaged or not a JWT|algorithm/);
    const hs = await new jose.SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(32)));
    await refused(hs, /algorithm/);
    const good = await sign(claims());
    await refused(`${good}=`, /malformed/);
  });

  it('BC-08 answers 503 when the provider keys cannot be fetched (the provider retries later)', async () => {
    const down: LogoutTokenOptions = { ...options, keys: async () => { throw new TypeError('fetch failed'); } };
    await assert.rejects(verifyLogoutToken(await sign(claims()), down), (error: { status?: number }) => error.status === 503);
  });
});
