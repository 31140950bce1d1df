import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, KeyObject, sign as nodeSign } from 'node:crypto';
import { before, describe, it } from 'node:test';
import * as jose from 'jose';
import { nodeJwtVerify, type NodeVerifyOptions } from '../../src/token/node-verify.js';

type CryptoKey = Awaited<ReturnType<typeof jose.generateKeyPair>>['privateKey'];

const ISSUER = 'https://idp.example.com/';
const AUDIENCE = 'https://api.example.com';
const NOW = 1_760_000_000;
const ALGS = ['RS256', 'PS256', 'ES256', 'RS512', 'ES384'];

const privateKeys = new Map<string, CryptoKey>();
let weakRsa: KeyObject;
let jwks: jose.JWTVerifyGetKey;

before(async () => {
  const keys: jose.JWK[] = [];
  for (const alg of ALGS) {
    const pair = await jose.generateKeyPair(alg, { extractable: true });
    privateKeys.set(alg, pair.privateKey);
    keys.push({ ...(await jose.exportJWK(pair.publicKey)), kid: alg, alg });
  }
  // A 1024-bit RSA key (jose will not make one): jose refuses it (minimum 2048).
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
  weakRsa = weak.privateKey;
  keys.push({ ...(weak.publicKey.export({ format: 'jwk' }) as jose.JWK), kid: 'weak', alg: 'RS256' });
  // The RS256 key published again, without "alg", under another kid: usable for RS256 and PS256 by jose's rules.
  keys.push({ ...(await jose.exportJWK((await jose.importJWK({ ...keys[0]! }, 'RS256')) as CryptoKey)), kid: 'no-alg' });
  jwks = jose.createLocalJWKSet({ keys });
});

const options = (): NodeVerifyOptions => ({
  issuer: ISSUER,
  audience: AUDIENCE,
  algorithms: ['RS256', 'PS256', 'ES256', 'RS512', 'ES384', 'HS256'],
  clockTolerance: 30,
  maxTokenAge: 3600,
  requiredClaims: ['iss', 'aud', 'exp', 'iat', 'sub'],
  currentDate: new Date(NOW * 1000),
});

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

async function sign(alg: string, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key?: CryptoKey): Promise<string> {
  const payload = { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: NOW - 60, exp: NOW + 600, ...claims };
  return new jose.SignJWT(payload).setProtectedHeader({ alg, kid: alg, ...header } as jose.JWTHeaderParameters).sign(key ?? privateKeys.get(alg)!);
}

/** Signs with node:crypto and the RS256 key, for headers and algorithms jose's SignJWT will not produce. */
function rawSign(header: Record<string, unknown>, claims: Record<string, unknown> = {}, pss = false): string {
  const input = `${b64(header)}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: NOW - 60, exp: NOW + 600, ...claims })}`;
  const key = KeyObject.from(privateKeys.get('RS256')! as Parameters<typeof KeyObject.from>[0]);
  const signature = nodeSign('sha256', Buffer.from(input), pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : key);
  return `${input}.${signature.toString('base64url')}`;
}

/** Outcome of a verification: the payload, or the error's class and code. */
async function outcome(run: () => Promise<jose.JWTVerifyResult>): Promise<unknown> {
  try {
    const { payload, protectedHeader } = await run();
    return { ok: true, payload, protectedHeader };
  } catch (error) {
    return { ok: false, class: (error as Error).constructor.name, code: (error as { code?: string }).code, message: (error as Error).message };
  }
}

/** Both paths give the same result for `token`; returns how many times the key set was asked by the node path. */
async function same(token: string, label: string): Promise<number> {
  let asked = 0;
  const counting: jose.JWTVerifyGetKey = (header, t) => {
    asked++;
    return jwks(header, t);
  };
  const allowed = new Set(options().algorithms);
  const node = await outcome(() => nodeJwtVerify(token, counting, options(), allowed));
  const reference = await outcome(() => jose.jwtVerify(token, jwks, options()));
  assert.deepEqual(node, reference, label);
  return asked;
}

describe('nodeJwtVerify: the same answers as jose.jwtVerify', () => {
  it('valid RS256, RS512, PS256, ES256 and ES384 tokens verify, on the node:crypto path (one key lookup)', async () => {
    for (const alg of ALGS) {
      const asked = await same(await sign(alg, { email: 'a@example.com' }), alg);
      assert.equal(asked, 1, `${alg}: no fall-back to jose`);
    }
  });

  it('a tampered signature or payload is refused as jose refuses it', async () => {
    for (const alg of ALGS) {
      const [h, p, s] = (await sign(alg)).split('.') as [string, string, string];
      const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
      assert.equal(await same(`${h}.${p}.${flipped}`, `${alg} signature`), 1);
      const other = b64({ iss: ISSUER, aud: AUDIENCE, sub: 'mallory', iat: NOW - 60, exp: NOW + 600 });
      await same(`${h}.${other}.${s}`, `${alg} payload`);
      // A signature of the wrong length (ECDSA checks it strictly).
      await same(`${h}.${p}.${s.slice(0, 40)}`, `${alg} short signature`);
    }
  });

  it('claim failures are jose\'s own: iss, aud, exp, nbf, iat, age, missing claims', async () => {
    const cases: Record<string, unknown>[] = [
      { iss: 'https://evil.example.com/' },
      { aud: 'https://other.example.com' },
      { aud: [] },
      { exp: NOW - 31 },
      { exp: NOW - 29 },
      { nbf: NOW + 31 },
      { iat: NOW + 31 },
      { iat: NOW - 3600 - 31 },
      { exp: 'soon' },
      { sub: undefined },
      { iat: undefined },
    ];
    for (const claims of cases) await same(await sign('RS256', claims), JSON.stringify(claims));
  });

  it('unusual headers fall back to jose and get its answer: crit, b64, alg none, an alg not allowed, unknown kid', async () => {
    await same(await sign('RS256', {}, { crit: ['b64'], b64: true }), 'crit b64 true');
    await same(rawSign({ alg: 'RS256', kid: 'RS256', crit: ['exp'], exp: 1 }), 'crit unknown');
    await same(rawSign({ alg: 'RS256', kid: 'RS256', crit: [] }), 'crit empty');
    await same(rawSign({ alg: 'RS256', kid: 'RS256', crit: ['b64'], b64: false }), 'unencoded payload');
    assert.equal(await same(rawSign({ alg: 'RS256', kid: 'RS256', typ: 'JWT', extra: { nested: true } }), 'extra header'), 1);
    await same(await sign('RS256', {}, { b64: false }), 'b64 without crit is ignored');
    const payload = b64({ iss: ISSUER, aud: AUDIENCE, sub: 'u', iat: NOW, exp: NOW + 60 });
    await same(`${b64({ alg: 'none' })}.${payload}.`, 'alg none, empty signature');
    await same(`${b64({ alg: 'RS384', kid: 'RS256' })}.${payload}.AAAA`, 'alg not allowed');
    await same(`${b64({ kid: 'RS256' })}.${payload}.AAAA`, 'no alg');
    await same(`${b64({ alg: 'RS256', kid: 'nope' })}.${payload}.AAAA`, 'unknown kid');
  });

  it('headers that are not a plain JSON object in strict UTF-8 get jose\'s answer', async () => {
    const [, p, s] = (await sign('RS256')).split('.') as [string, string, string];
    for (const header of ['[]', 'null', '"RS256"', '{"alg":"RS256",', Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1')]) {
      await same(`${Buffer.from(header, 'latin1').toString('base64url')}.${p}.${s}`, header);
    }
  });

  it('a key jose would not use for this algorithm is refused as jose refuses it: too short, another algorithm', async () => {
    const input = `${b64({ alg: 'RS256', kid: 'weak' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'u', iat: NOW, exp: NOW + 60 })}`;
    await same(`${input}.${nodeSign('sha256', Buffer.from(input), weakRsa).toString('base64url')}`, 'RSA 1024');
    // An ES256 token naming the RS256 key, and an RS256 token naming the ES256 key.
    await same(await sign('ES256', {}, { kid: 'RS256' }), 'ES256 with an RSA key');
    await same(await sign('RS256', {}, { kid: 'ES256' }), 'RS256 with an EC key');
    // A key published without "alg" is imported per algorithm by jose: both paths accept it for RS256 and PS256.
    assert.equal(await same(await sign('RS256', {}, { kid: 'no-alg' }, privateKeys.get('RS256')), 'RS256 via no-alg'), 1);
    assert.equal(await same(rawSign({ alg: 'PS256', kid: 'no-alg' }, {}, true), 'PS256 via no-alg'), 1);
  });

  it('HS256 is left to jose entirely', async () => {
    const secret = new TextEncoder().encode('a-shared-client-secret-of-32-chars!!');
    const token = await new jose.SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'u', iat: NOW - 1, exp: NOW + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    const getKey: jose.JWTVerifyGetKey = () => secret;
    assert.deepEqual(
      await outcome(() => nodeJwtVerify(token, getKey, options(), new Set(options().algorithms))),
      await outcome(() => jose.jwtVerify(token, getKey, options())),
    );
  });
});
