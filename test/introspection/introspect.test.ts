import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { Agent } from '../helpers/agent.js';
import { loginAs, protectedStatus, startDevKeygate, type TestKeygate } from '../helpers/keygate.js';
import { basic, CLIENT, CLIENTS_ENV, introspect, OTHER, tokenForm, type Introspection } from './helpers.js';

const AUDIENCE = 'https://api.example.com';
const INACTIVE_HEADERS = ['cache-control', 'pragma', 'content-type', 'www-authenticate', 'retry-after'];

/** The headers that could tell two inactive answers apart (dates and lengths aside). */
const shapeOf = (answer: Introspection) => ({
  status: answer.status,
  body: answer.body,
  headers: Object.fromEntries(INACTIVE_HEADERS.map((name) => [name, answer.headers.get(name)])),
});

function assertInactive(answer: Introspection, name: string, reference?: Introspection): void {
  assert.equal(answer.status, 200, `${name}: ${JSON.stringify(answer.body)}`);
  assert.deepEqual(answer.body, { active: false }, name);
  assert.equal(answer.headers.get('cache-control'), 'no-store', name);
  assert.equal(answer.headers.get('pragma'), 'no-cache', name);
  if (reference) assert.deepEqual(shapeOf(answer), shapeOf(reference), `${name}: same answer, same headers`);
}

/** A token with the real token's claims, re-signed by a key of nobody this Keygate trusts. */
async function resigned(token: string, claims: Record<string, unknown>): Promise<string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const header = jose.decodeProtectedHeader(token);
  return new jose.SignJWT({ ...jose.decodeJwt(token), ...claims }).setProtectedHeader({ alg: 'RS256', kid: header.kid ?? 'k', typ: header.typ ?? 'JWT' }).sign(privateKey);
}

describe('POST /introspect (RFC 7662) against real logins', () => {
  let kg: TestKeygate;
  let clock = 0;
  before(async () => {
    kg = await startDevKeygate(
      { AUDIENCE, SCOPE: 'openid email read:messages', INTROSPECTION_CLIENTS: CLIENTS_ENV, RATE_LIMIT_INTROSPECTION: 'off' },
      { now: () => Date.now() + clock },
    );
  });
  after(async () => kg?.close());

  it('IN-01 answers a live token with active, sub, email, scope, exp, iat, iss, aud, token_type and client_id, as /protected accepts it', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    const claims = jose.decodeJwt(token);
    assert.equal(await protectedStatus(kg.base, token), 200);
    const answer = await introspect(kg.base, tokenForm(token));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.active, true);
    // Every member, none dropped by the answer's schema.
    assert.deepEqual(Object.keys(answer.body).sort(), ['active', 'aud', 'client_id', 'email', 'exp', 'iat', 'iss', 'scope', 'sub', 'token_type']);
    assert.equal(answer.body.sub, claims.sub);
    assert.equal(answer.body.email, 'alice@example.com');
    assert.equal(answer.body.exp, claims.exp);
    assert.equal(answer.body.iat, claims.iat);
    assert.equal(answer.body.iss, claims.iss);
    assert.deepEqual(answer.body.aud, claims.aud);
    assert.equal(answer.body.token_type, 'Bearer');
    assert.equal(answer.body.client_id, kg.config.clientId);
    assert.ok(String(answer.body.scope).split(' ').includes('read:messages'), String(answer.body.scope));
    assert.equal(answer.headers.get('cache-control'), 'no-store', 'an active answer outlives no logout by default');
    assert.equal(answer.headers.get('pragma'), 'no-cache');
    assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  });

  it('IN-02 a token whose login ended (logout) is {"active": false}, with exactly the headers of a malformed one', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'bob@example.com', 'bob');
    assert.equal((await introspect(kg.base, tokenForm(token))).body.active, true);
    const logout = await fetch(new URL('/logout', kg.base), { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    assert.equal(logout.status, 200);
    const reference = await introspect(kg.base, tokenForm('not-a-token'));
    assertInactive(reference, 'malformed');
    assertInactive(await introspect(kg.base, tokenForm(token)), 'after logout', reference);
  });

  it('IN-03 an expired token is {"active": false} (clock moved past exp)', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    const exp = jose.decodeJwt(token).exp!;
    assert.equal((await introspect(kg.base, tokenForm(token))).body.active, true);
    clock = exp * 1000 - Date.now() + 120_000;
    try {
      assertInactive(await introspect(kg.base, tokenForm(token)), 'expired');
      assert.equal(await protectedStatus(kg.base, token), 401, '/protected agrees');
    } finally {
      clock = 0;
    }
  });

  it('IN-04 a foreign issuer or a foreign key is {"active": false}', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    const reference = await introspect(kg.base, tokenForm('x'));
    assertInactive(await introspect(kg.base, tokenForm(await resigned(token, { iss: 'https://evil.example/' }))), 'foreign issuer', reference);
    assertInactive(await introspect(kg.base, tokenForm(await resigned(token, {}))), 'same claims, foreign key', reference);
  });

  it('IN-05 alg:none and a stripped signature are {"active": false}', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    const [, payload] = token.split('.');
    const none = `${jose.base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${payload}.`;
    const stripped = token.split('.').slice(0, 2).join('.') + '.';
    const reference = await introspect(kg.base, tokenForm('x'));
    assertInactive(await introspect(kg.base, tokenForm(none)), 'alg none', reference);
    assertInactive(await introspect(kg.base, tokenForm(stripped)), 'no signature', reference);
  });

  it('IN-06 malformed tokens are {"active": false}; a missing or repeated token field is 400 invalid_request', async () => {
    const reference = await introspect(kg.base, tokenForm('x'));
    for (const bad of ['a.b.c', '...', 'Bearer abc', ' ', '%00', 'e'.repeat(10_000), 'eyJhbGciOiJSUzI1NiJ9.e30.AAAA']) {
      assertInactive(await introspect(kg.base, tokenForm(bad)), JSON.stringify(bad.slice(0, 20)), reference);
    }
    for (const [name, body] of [['missing', 'other=1'], ['empty', 'token='], ['repeated', 'token=a&token=b'], ['no body', '']] as const) {
      const answer = await introspect(kg.base, body);
      assert.equal(answer.status, 400, name);
      assert.equal(answer.body.error, 'invalid_request', name);
      assert.equal(answer.headers.get('pragma'), 'no-cache', name);
    }
    const json = await introspect(kg.base, JSON.stringify({ token: 'x' }), null, 'application/json');
    assert.equal(json.status, 401, 'client authentication comes first');
    const jsonAuthed = await introspect(kg.base, JSON.stringify({ token: 'x' }), basic(CLIENT.id, CLIENT.secret), 'application/json');
    assert.equal(jsonAuthed.status, 415);
    assert.equal(jsonAuthed.body.error, 'unsupported_media_type');
  });

  it('IN-07 a huge token field is 413 request_too_large (the form limit), never a 500 or a hang', async () => {
    const answer = await introspect(kg.base, tokenForm('e'.repeat(64 * 1024)));
    assert.equal(answer.status, 413);
    assert.equal(answer.body.error, 'request_too_large');
  });

  it('IN-08 no, malformed or wrong client credentials are 401 invalid_client with a Basic challenge, all alike', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    const cases: Array<[string, string | null]> = [
      ['none', null],
      ['wrong secret', basic(CLIENT.id, `${CLIENT.secret}x`)],
      ['secret of another client', basic(CLIENT.id, OTHER.secret)],
      ['unknown client', basic('nobody', CLIENT.secret)],
      ['empty secret', basic(CLIENT.id, '')],
      ['bearer instead', `Bearer ${token}`],
      ['not base64', 'Basic %%%'],
      ['no colon', `Basic ${Buffer.from(CLIENT.id).toString('base64')}`],
      ['bad percent-encoding', `Basic ${Buffer.from(`${CLIENT.id}:%zz${CLIENT.secret}`).toString('base64')}`],
      ['secret prefix', basic(CLIENT.id, CLIENT.secret.slice(0, -1))],
    ];
    let first: Introspection | undefined;
    for (const [name, authorization] of cases) {
      const answer = await introspect(kg.base, tokenForm(token), authorization);
      assert.equal(answer.status, 401, name);
      assert.equal(answer.body.error, 'invalid_client', name);
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Basic realm="keygate"/, name);
      assert.equal(answer.headers.get('cache-control'), 'no-store', name);
      assert.equal(answer.body.active, undefined, `${name}: says nothing about the token`);
      first ??= answer;
      assert.deepEqual(answer.body, first.body, `${name}: one answer for every cause`);
    }
    const twice = await fetch(new URL('/introspect', kg.base), {
      method: 'POST',
      headers: [['content-type', 'application/x-www-form-urlencoded'], ['authorization', basic(CLIENT.id, CLIENT.secret)], ['authorization', basic(CLIENT.id, CLIENT.secret)]],
      body: tokenForm(token),
    });
    assert.equal(twice.status, 401, 'two Authorization headers');
  });

  it('IN-09 client ids and secrets are form-urlencoded inside Basic (RFC 6749 §2.3.1): the second client, encoded, works', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    assert.equal((await introspect(kg.base, tokenForm(token), basic(OTHER.id, OTHER.secret))).body.active, true);
    const plusForSpace = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;
    assert.equal((await introspect(kg.base, tokenForm(token), plusForSpace)).body.active, true, 'unencoded plain characters');
  });

  it('IN-10 token_type_hint is ignored safely, whatever its value', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    for (const hint of ['access_token', 'refresh_token', 'nonsense', '']) {
      const answer = await introspect(kg.base, tokenForm(token, `&token_type_hint=${hint}`));
      assert.equal(answer.body.active, true, hint);
    }
    assertInactive(await introspect(kg.base, tokenForm('x', '&token_type_hint=refresh_token&token_type_hint=x')), 'repeated hint');
  });
});

describe('POST /introspect settings', () => {
  it('IN-11 REQUIRE_SESSION=false: the same store check as /protected (active until the token is revoked by a logout)', async () => {
    const kg = await startDevKeygate({ INTROSPECTION_CLIENTS: CLIENTS_ENV, REQUIRE_SESSION: 'false' });
    try {
      const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
      assert.equal((await introspect(kg.base, tokenForm(token))).body.active, true);
      assert.equal(await protectedStatus(kg.base, token), 200, '/protected agrees');
      await fetch(new URL('/logout', kg.base), { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
      assertInactive(await introspect(kg.base, tokenForm(token)), 'revoked');
    } finally {
      await kg.close();
    }
  });

  it('IN-12 INTROSPECTION_CACHE_SECONDS lets an active answer be cached, never past the token\'s exp; inactive stays no-store', async () => {
    const kg = await startDevKeygate({ INTROSPECTION_CLIENTS: CLIENTS_ENV, INTROSPECTION_CACHE_SECONDS: '30' });
    try {
      const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
      const answer = await introspect(kg.base, tokenForm(token));
      const maxAge = Number(/^max-age=(\d+)$/.exec(answer.headers.get('cache-control') ?? '')?.[1]);
      assert.ok(maxAge > 0 && maxAge <= 30, answer.headers.get('cache-control') ?? '');
      assert.ok(Date.now() / 1000 + maxAge <= (answer.body.exp as number) + 1);
      assertInactive(await introspect(kg.base, tokenForm('x')), 'inactive');
    } finally {
      await kg.close();
    }
  });

  it('IN-13 rate-limited per client: one client over its limit gets 429, another client and wrong secrets do not spend it', async () => {
    const kg = await startDevKeygate({ INTROSPECTION_CLIENTS: CLIENTS_ENV, RATE_LIMIT_INTROSPECTION: '3/1m' });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await introspect(kg.base, tokenForm('x'), basic(CLIENT.id, 'wrong-secret-wrong-secret-wrong-secret'))).status, 401);
      for (let i = 0; i < 3; i++) assert.equal((await introspect(kg.base, tokenForm('x'))).status, 200, `request ${i + 1}`);
      const limited = await introspect(kg.base, tokenForm('x'));
      assert.equal(limited.status, 429);
      assert.equal(limited.body.error, 'too_many_requests');
      assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
      assert.equal((await introspect(kg.base, tokenForm('x'), basic(OTHER.id, OTHER.secret))).status, 200, 'the other client is not limited');
    } finally {
      await kg.close();
    }
  });

  it('IN-14 without INTROSPECTION_CLIENTS there is no /introspect (404)', async () => {
    const kg = await startDevKeygate();
    try {
      assert.equal((await introspect(kg.base, tokenForm('x'))).status, 404);
    } finally {
      await kg.close();
    }
  });
});
