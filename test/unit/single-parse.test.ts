/**
 * Property tests of the single-pass parsing on the cold path (issue 5): `parseWellFormed` decodes header and payload
 * once and hands the parsed header to `nodeJwtVerify`; `hasDuplicateMembers` scans char codes instead of unescaping
 * every member name. Seeded pseudo-random inputs (reproducible), bounded in count.
 */
import assert from 'node:assert/strict';
import { KeyObject, sign as nodeSign } from 'node:crypto';
import { before, describe, it } from 'node:test';
import * as jose from 'jose';
import { nodeJwtVerify, type NodeVerifyOptions } from '../../src/token/node-verify.js';
import { assertCanonical } from '../../src/token/verifier.js';
import { assertWellFormed, hasDuplicateMembers, parseWellFormed } from '../../src/token/well-formed.js';

/** xorshift32: the same sequence on every run. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

/** A member name written with some of its characters as \u escapes (and `"`/`\` always escaped). */
function encodeName(name: string, rnd: () => number): string {
  let out = '"';
  for (const ch of name) {
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (rnd() < 0.2) out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

const NAMES = ['a', 'b', 'alg', 'kid', 'a"b', 'a\\', 'é', '{', ',', '[x]'];

/** Random JSON text with whitespace, nested objects and arrays, string values that look like members; returns
 * whether any object in it repeats a (decoded) member name, known by construction. */
function randomJson(rnd: () => number, depth = 0): { text: string; duplicate: boolean } {
  const ws = () => (rnd() < 0.2 ? ' \n'[Math.floor(rnd() * 2)]! : '');
  const r = rnd();
  if (depth > 3 || r < 0.3) {
    const scalars = ['1', 'true', 'null', '"a"', '"{\\"a\\":1,\\"a\\":2}"', '"x,\\"y\\":"', '-2.5e3'];
    return { text: scalars[Math.floor(rnd() * scalars.length)]!, duplicate: false };
  }
  if (r < 0.45) {
    const items = Array.from({ length: Math.floor(rnd() * 4) }, () => randomJson(rnd, depth + 1));
    return { text: `[${ws()}${items.map((i) => i.text).join(`${ws()},${ws()}`)}${ws()}]`, duplicate: items.some((i) => i.duplicate) };
  }
  const count = Math.floor(rnd() * 6);
  const seen = new Set<string>();
  let duplicate = false;
  const members: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = NAMES[Math.floor(rnd() * NAMES.length)]!;
    if (seen.has(name)) duplicate = true;
    seen.add(name);
    const value = randomJson(rnd, depth + 1);
    duplicate ||= value.duplicate;
    members.push(`${ws()}${encodeName(name, rnd)}${ws()}:${ws()}${value.text}${ws()}`);
  }
  return { text: `{${members.join(',')}}`, duplicate };
}

describe('hasDuplicateMembers on random JSON', () => {
  it('finds exactly the repeated member names, escaped or not, at any depth (2,000 seeded cases)', () => {
    const rnd = random(0x5eed);
    let duplicates = 0;
    for (let i = 0; i < 2000; i++) {
      const { text, duplicate } = randomJson(rnd);
      JSON.parse(text); // the generator writes valid JSON
      assert.equal(hasDuplicateMembers(text), duplicate, text);
      if (duplicate) duplicates++;
    }
    // Both answers are exercised.
    assert.ok(duplicates > 100 && duplicates < 1900, `${duplicates} duplicates`);
  });
});

const ISSUER = 'https://idp.example.com/';
const AUDIENCE = 'https://api.example.com';
const NOW = 1_760_000_000;
let privateKey: KeyObject;
let jwks: jose.JWTVerifyGetKey;

before(async () => {
  const pair = await jose.generateKeyPair('RS256', { extractable: true });
  privateKey = KeyObject.from(pair.privateKey as Parameters<typeof KeyObject.from>[0]);
  jwks = jose.createLocalJWKSet({ keys: [{ ...(await jose.exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' }] });
});

const options: NodeVerifyOptions = {
  issuer: ISSUER,
  audience: AUDIENCE,
  algorithms: ['RS256'],
  clockTolerance: 30,
  maxTokenAge: 3600,
  requiredClaims: ['iss', 'aud', 'exp', 'iat', 'sub'],
  currentDate: new Date(NOW * 1000),
};

/** Signs header and payload texts as they are (so malformed JSON, odd types and duplicates get a valid signature). */
function signTexts(header: string, payload: string): string {
  const input = `${Buffer.from(header).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
  return `${input}.${nodeSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

/** Accept with the payload, or the error's class: the same for both paths when they agree. */
async function outcome(run: () => Promise<jose.JWTVerifyResult>): Promise<unknown> {
  try {
    const { payload, protectedHeader } = await run();
    return { payload, protectedHeader };
  } catch (error) {
    return { error: (error as Error).constructor.name, code: (error as { code?: string }).code };
  }
}

/** One random change to a valid token: a claim or header member changed, removed, retyped or repeated, a byte of a
 * segment flipped, the signature cut. */
function mutate(rnd: () => number): string {
  const header: Record<string, unknown> = { alg: 'RS256', kid: 'k1', typ: 'JWT' };
  const payload: Record<string, unknown> = { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: NOW - 60, exp: NOW + 600 };
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const values = [undefined, 0, -1, NOW, NOW + 7200, NOW - 7200, '', 'x', ISSUER, AUDIENCE, [AUDIENCE], ['other'], null, true, {}, 'RS256', 'HS256', 'none', 'k2'];
  let duplicate = '';
  for (let n = Math.floor(rnd() * 3); n >= 0; n--) {
    const target = rnd() < 0.6 ? payload : header;
    const name = pick(target === payload ? ['iss', 'aud', 'sub', 'iat', 'exp', 'nbf', 'azp'] : ['alg', 'kid', 'typ', 'crit', 'b64', 'jku']);
    const value = pick(values);
    if (rnd() < 0.1) duplicate = `,"${name}":${JSON.stringify(value ?? 1)}`;
    if (value === undefined) delete target[name];
    else target[name] = value;
  }
  const headerText = JSON.stringify(header).slice(0, -1) + (rnd() < 0.5 ? duplicate : '') + '}';
  let token = signTexts(headerText, JSON.stringify(payload));
  const change = rnd();
  if (change < 0.15) {
    const i = Math.floor(rnd() * token.lastIndexOf('.'));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    token = token.slice(0, i) + pick([...alphabet]) + token.slice(i + 1);
  } else if (change < 0.2) {
    token = token.slice(0, -4);
  }
  return token;
}

describe('nodeJwtVerify with the header parsed once agrees with jose.jwtVerify', () => {
  it('on 400 seeded random mutations of a valid token that pass the canonical and well-formedness checks', async () => {
    const rnd = random(0xc01d);
    let checked = 0;
    let accepted = 0;
    for (let i = 0; i < 400; i++) {
      const token = mutate(rnd);
      let header: Record<string, unknown>;
      try {
        assertCanonical(token);
        const first = token.indexOf('.');
        ({ header } = parseWellFormed(token, first, token.indexOf('.', first + 1)));
      } catch {
        // Refused before verification: the same token must be refused by the separate check too.
        assert.throws(() => {
          assertCanonical(token);
          assertWellFormed(token);
        });
        continue;
      }
      checked++;
      const fast = await outcome(() => nodeJwtVerify(token, jwks, options, new Set(options.algorithms), header));
      const reparsed = await outcome(() => nodeJwtVerify(token, jwks, options, new Set(options.algorithms)));
      const reference = await outcome(() => jose.jwtVerify(token, jwks, options));
      assert.deepEqual(fast, reference, token);
      assert.deepEqual(reparsed, reference, token);
      if (!('error' in (fast as object))) accepted++;
    }
    assert.ok(checked > 150 && accepted > 20 && accepted < checked, `${checked} checked, ${accepted} accepted`);
  });
});

describe('signature checks batched per event-loop turn', () => {
  it('give every one of many concurrent verifications its own answer (valid, tampered, wrong claims mixed)', async () => {
    const rnd = random(0xba7c);
    const tokens = Array.from({ length: 120 }, () => mutate(rnd));
    const allowed = new Set(options.algorithms);
    // All started in the same turn: their signature checks run in one batch.
    const together = await Promise.all(tokens.map((t) => outcome(() => nodeJwtVerify(t, jwks, options, allowed))));
    const kinds = new Set<string>();
    for (const [i, token] of tokens.entries()) {
      const alone = await outcome(() => jose.jwtVerify(token, jwks, options));
      assert.deepEqual(together[i], alone, token);
      kinds.add('error' in (alone as object) ? (alone as { error: string }).error : 'ok');
    }
    assert.ok(kinds.has('ok') && kinds.has('JWSSignatureVerificationFailed'), [...kinds].join());
  });
});
