import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { Agent } from '../helpers/agent.js';
import { loginAs, startDevKeygate, type TestKeygate } from '../helpers/keygate.js';

/** RFC 6750 §3: `Bearer` alone, or `Bearer` followed by comma-separated auth-params with quoted values. */
const CHALLENGE = /^Bearer(?: [a-z_]+="[\x20\x21\x23-\x5b\x5d-\x7e]*"(?:, [a-z_]+="[\x20\x21\x23-\x5b\x5d-\x7e]*")*)?$/;

describe('GET /protected: RFC 6750 answers for every kind of request', () => {
  let kg: TestKeygate;
  let token: string;
  before(async () => {
    kg = await startDevKeygate({ CORS_ORIGINS: '*' });
    ({ token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice'));
  });
  after(async () => kg.close());

  async function call(headers: Record<string, string>, path = '/protected', init: RequestInit = {}) {
    const response = await fetch(new URL(path, kg.base), { ...init, headers });
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      assert.fail(`not JSON: ${text.slice(0, 200)}`);
    }
    const challenge = response.headers.get('www-authenticate');
    if (response.status === 401 || response.status === 403 || response.status === 400) {
      assert.ok(challenge, 'a challenge on every bearer error');
      assert.match(challenge!, CHALLENGE);
    }
    assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
    return { status: response.status, body, challenge, headers: response.headers };
  }

  it('answers 200 with the profile for the token of a live login', async () => {
    const r = await call({ authorization: `Bearer ${token}` });
    assert.equal(r.status, 200);
    // SCOPE defaults to `openid email`: no profile claims were asked for, so none are answered.
    assert.deepEqual(Object.keys(r.body).sort(), ['email', 'email_verified', 'exp', 'sub']);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    // The scheme is case-insensitive.
    assert.equal((await call({ authorization: `bearer ${token}` })).status, 200);
    assert.equal((await call({ authorization: `BEARER ${token}` })).status, 200);
  });

  it('no credentials: 401 with a bare challenge', async () => {
    const r = await call({});
    assert.equal(r.status, 401);
    assert.equal(r.challenge, 'Bearer');
    assert.ok(typeof r.body.error === 'string' && typeof r.body.error_description === 'string');
  });

  it('another scheme (even a JWT inside Basic): 401 with a bare challenge', async () => {
    for (const value of ['Basic dXNlcjpwYXNz', `Basic ${Buffer.from(token).toString('base64')}`, `Token ${token}`, `DPoP ${token}`]) {
      const r = await call({ authorization: value });
      assert.equal(r.status, 401, value.slice(0, 12));
      assert.equal(r.challenge, 'Bearer');
    }
  });

  it('malformed requests: 400 invalid_request', async () => {
    for (const value of ['Bearer', 'Bearer ', `Bearer ${token} extra`, `Bearer ${token},x`, 'Bearer "quoted"', 'Bearer\ttab', `Bearer  ${token}x y`]) {
      const r = await call({ authorization: value });
      assert.equal(r.status, 400, JSON.stringify(value.slice(0, 30)));
      assert.equal(r.body.error, 'invalid_request');
    }
  });

  it('a token in the query string or body, alone or beside the header: 400 invalid_request', async () => {
    assert.equal((await call({}, `/protected?access_token=${token}`)).status, 400);
    assert.equal((await call({ authorization: `Bearer ${token}` }, `/protected?access_token=${token}`)).status, 400);
  });

  it('several Authorization headers: 400 invalid_request', async () => {
    const raw = await rawRequest(
      `GET /protected HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
    );
    assert.match(raw, /^HTTP\/1\.1 400 /);
    assert.match(raw, /invalid_request/);
  });

  it('bad tokens: 401 invalid_token with a reason', async () => {
    const [h, p, s] = token.split('.') as [string, string, string];
    const tampered = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    tampered.email = 'mallory@example.com';
    const cases: Record<string, string> = {
      garbage: 'abc.def.ghi',
      twoParts: `${h}.${p}`,
      tamperedPayload: `${h}.${Buffer.from(JSON.stringify(tampered)).toString('base64url')}.${s}`,
      noSignature: `${h}.${p}.`,
      algNone: `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`,
      padded: `${h}.${p}.${s}=`,
    };
    for (const [name, bad] of Object.entries(cases)) {
      const r = await call({ authorization: `Bearer ${bad}` });
      assert.equal(r.status, 401, name);
      assert.equal(r.body.error, 'invalid_token', name);
      assert.match(r.challenge!, /^Bearer error="invalid_token", error_description="/, name);
    }
  });

  it('a token signed by another key (a forged issuer) is refused', async () => {
    const { privateKey } = await jose.generateKeyPair('RS256');
    const claims = jose.decodeJwt(token);
    const forged = await new jose.SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: jose.decodeProtectedHeader(token).kid! })
      .sign(privateKey);
    const r = await call({ authorization: `Bearer ${forged}` });
    assert.equal(r.status, 401);
    assert.match(String(r.body.error_description), /signature/);
  });

  it('CORS: any origin, preflight for Authorization, never credentials', async () => {
    const preflight = await fetch(new URL('/protected', kg.base), {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.match(preflight.headers.get('access-control-allow-headers')!, /Authorization/);
    assert.equal(preflight.headers.get('access-control-allow-credentials'), null);
    const r = await call({ authorization: `Bearer ${token}`, origin: 'https://app.example' });
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    const denied = await call({ origin: 'https://app.example' });
    assert.equal(denied.headers.get('access-control-allow-origin'), '*', 'errors are readable cross-origin too');
    assert.match(denied.headers.get('access-control-expose-headers')!, /WWW-Authenticate/);
  });

  it('oversized headers: 431, and the server lives on', async () => {
    const raw = await rawRequest(`GET /protected HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 431 /);
    assert.equal((await call({ authorization: `Bearer ${token}` })).status, 200);
  });

  it('oversized or malformed bodies: 4xx, never 500', async () => {
    const big = await fetch(new URL('/logout', kg.base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"a":"${'x'.repeat(40_000)}"}` });
    assert.equal(big.status, 413);
    const broken = await fetch(new URL('/logout', kg.base), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: '{"a":' });
    assert.equal(broken.status, 400);
    assert.equal(((await broken.json()) as { error: string }).error, 'invalid_request');
    const odd = await fetch(new URL('/logout', kg.base), { method: 'POST', headers: { 'content-type': 'application/x-unknown' }, body: 'x' });
    assert.equal(odd.status, 415);
  });

  it('unknown routes: 404 JSON for API clients, HTML for browsers', async () => {
    const json = await fetch(new URL('/nope', kg.base));
    assert.equal(json.status, 404);
    assert.equal(((await json.json()) as { error: string }).error, 'not_found');
    const html = await fetch(new URL('/nope?<script>', kg.base), { headers: { accept: 'text/html' } });
    assert.equal(html.status, 404);
    assert.doesNotMatch(await html.text(), /<script>/);
  });

  it('health: /healthz alive, /readyz ready', async () => {
    assert.equal((await fetch(new URL('/healthz', kg.base))).status, 200);
    const ready = await fetch(new URL('/readyz', kg.base));
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ok', checks: { store: 'ok', provider: 'ok' } });
  });

  it('metrics: Prometheus text with bounded labels', async () => {
    await fetch(new URL(`/nothing-${'x'.repeat(50)}`, kg.base));
    const response = await fetch(new URL('/metrics', kg.base));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.match(text, /^keygate_sessions 1$/m);
    assert.match(text, /^keygate_logins_total\{result="success"\} 1$/m);
    assert.match(text, /^keygate_http_requests_total\{route="\/protected",method="GET",status="200"\} \d+$/m);
    assert.match(text, /^keygate_http_requests_total\{route="unmatched",method="GET",status="404"\} \d+$/m);
    assert.doesNotMatch(text, /xxxxx/, 'no raw URL in a label');
    assert.doesNotMatch(text, new RegExp(token.slice(0, 40)), 'no token');
  });

  function rawRequest(text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(kg.base.port), '127.0.0.1');
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      socket.write(text);
    });
  }
});

describe('GET /protected with narrowed CORS, an allowlist and required scopes', () => {
  it('CORS_ORIGINS lets listed origins read answers, others not', async () => {
    const kg = await startDevKeygate({ CORS_ORIGINS: 'https://app.example' });
    try {
      const ok = await fetch(new URL('/protected', kg.base), { headers: { origin: 'https://app.example' } });
      assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example');
      assert.match(ok.headers.get('vary') ?? '', /Origin/);
      const other = await fetch(new URL('/protected', kg.base), { headers: { origin: 'https://evil.example' } });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    } finally {
      await kg.close();
    }
  });

  it('REQUIRED_SCOPES missing from the access token: 403 insufficient_scope with the scope in the challenge', async () => {
    const kg = await startDevKeygate({ AUDIENCE: 'https://api.example.test', REQUIRED_SCOPES: 'read:reports' });
    try {
      // The login succeeds (the token is genuine); REQUIRED_SCOPES is /protected's policy, applied after verification.
      const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
      const response = await fetch(new URL('/protected', kg.base), { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 403);
      assert.equal(((await response.json()) as { error: string }).error, 'insufficient_scope');
      assert.match(response.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*scope="read:reports"/);
    } finally {
      await kg.close();
    }
  });
});
