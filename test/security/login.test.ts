import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { Sealer } from '../../src/http/seal.js';
import { textOf } from '../helpers/keygate.js';
import { flipByte, startHostileOp, CLIENT_ID, CLIENT_SECRET, type HostileOp } from './hostile-op.js';
import { authorizeAtOp, BASE, callback, keygateAgainst, login, startLogin, type CallbackResult, type KeygateUnderTest } from './harness.js';
import { makeKey } from './jws.js';

/** Login and callback (LC-*): a hostile provider and a hostile browser around GET /login and GET /callback. */
describe('login and callback against a hostile provider', () => {
  let op: HostileOp;
  let kg: KeygateUnderTest;

  before(async () => {
    op = await startHostileOp();
    kg = await keygateAgainst(op);
  });
  afterEach(() => op.reset());
  after(async () => {
    await kg.close();
    await op.close();
  });

  const sessions = async () => (await kg.store.stats()).sessions;

  /** A failed callback: the status, the code on an escaped HTML page, no session cookie, no new session. */
  async function refused(run: () => Promise<CallbackResult>, status: number, code: RegExp) {
    const before = await sessions();
    const r = await run();
    assert.equal(r.status, status, textOf(r.body).slice(0, 400));
    assert.match(r.response.headers['content-type'] as string, /^text\/html/);
    assert.match(textOf(r.body), code);
    assert.equal([...r.cookies.keys()].some((n) => n.includes('keygate_session') && r.cookies.get(n) !== ''), false, 'no session cookie');
    assert.equal(await sessions(), before, 'no session created');
    return r;
  }
  /** Starts a login, lets the provider answer, then hands the query to `tweak` before the callback. */
  async function flow(tweak: (q: URLSearchParams) => void = () => {}) {
    const started = await startLogin(kg);
    const query = await authorizeAtOp(started);
    tweak(query);
    return callback(kg, query, started.cookies);
  }

  it('LC-01 a regular login against the hostile provider (its own keys, iss parameter) succeeds (control)', async () => {
    const before = await sessions();
    const { result, token } = await login(kg);
    assert.equal(result.location, '/key');
    assert.equal(await sessions(), before + 1);
    assert.equal(token.split('.').length, 3);
  });

  it('LC-02 state missing is refused', async () => {
    await refused(() => flow((q) => q.delete('state')), 400, /invalid_request|invalid_state/);
  });

  it('LC-03 a wrong state is refused, and does not use up the login in progress', async () => {
    const started = await startLogin(kg);
    const query = await authorizeAtOp(started);
    const forged = new URLSearchParams(query);
    forged.set('state', 'forged-state');
    // No login in this browser has that state.
    await refused(() => callback(kg, forged, started.cookies), 400, /login_expired/);
    assert.equal((await callback(kg, query, started.cookies)).status, 302);
  });

  it('LC-04 state (or code, iss) repeated is refused', async () => {
    await refused(() => flow((q) => q.append('state', q.get('state')!)), 400, /invalid_request/);
    await refused(() => flow((q) => q.append('code', 'other')), 400, /invalid_request/);
    await refused(() => flow((q) => q.append('iss', op.issuer)), 400, /invalid_request/);
  });

  it('LC-05 a callback without its transaction cookie is refused', async () => {
    const started = await startLogin(kg);
    const query = await authorizeAtOp(started);
    await refused(() => callback(kg, query, ''), 400, /login_expired/);
  });

  it('LC-06 a transaction cookie from another browser, tampered, or sealed with another SECRET_KEY is refused', async () => {
    const mine = await startLogin(kg);
    const theirs = await startLogin(kg);
    const query = await authorizeAtOp(mine);
    const [[name, value]] = [...mine.cookies] as [[string, string]];
    const [[, theirValue]] = [...theirs.cookies] as [[string, string]];
    // Their transaction under its own name belongs to no login of this response; renamed to this login's, its state differs.
    await refused(() => callback(kg, query, theirs.cookies), 400, /login_expired/);
    await refused(() => callback(kg, query, `${name}=${theirValue}`), 400, /invalid_state/);
    await refused(() => callback(kg, query, `${name}=${value.slice(0, -4)}AAAA`), 400, /login_expired/);
    const other = new Sealer(['o'.repeat(48)], 'login transaction');
    const forged = await other.seal({ state: query.get('state'), nonce: mine.nonce, codeVerifier: 'x'.repeat(43), returnTo: '/key' }, 600);
    await refused(() => callback(kg, query, `${name}=${forged}`), 400, /login_expired/);
  });

  it('LC-07 a replayed callback (same query, same transaction cookie) creates no second session', async () => {
    const started = await startLogin(kg);
    const query = await authorizeAtOp(started);
    const first = await callback(kg, query, started.cookies);
    assert.equal(first.status, 302);
    await refused(() => callback(kg, query, started.cookies), 400, /invalid_grant/);
  });

  it('LC-08 a code replayed into a new login is refused (the provider says invalid_grant)', async () => {
    const first = await startLogin(kg);
    const used = await authorizeAtOp(first);
    assert.equal((await callback(kg, used, first.cookies)).status, 302);
    await refused(() => flow((q) => q.set('code', used.get('code')!)), 400, /invalid_grant/);
  });

  it('LC-09 an injected code (issued to another login, other PKCE challenge) is refused', async () => {
    const victim = await startLogin(kg);
    const attackerLogin = await startLogin(kg);
    const attackerQuery = await authorizeAtOp(attackerLogin);
    const query = new URLSearchParams({ code: attackerQuery.get('code')!, state: victim.state, iss: op.issuer });
    await refused(() => callback(kg, query, victim.cookies), 400, /invalid_grant/);
  });

  it('LC-10 an ID token with a wrong nonce is refused', async () => {
    op.plan = { claims: { nonce: 'not-the-nonce' } };
    await refused(() => flow(), 400, /invalid_id_token/);
  });

  it('LC-11 an ID token without nonce is refused', async () => {
    op.plan = { claims: { nonce: undefined } };
    await refused(() => flow(), 400, /invalid_id_token/);
  });

  it('LC-12 an ID token from another issuer (iss) is refused', async () => {
    op.plan = { claims: { iss: `${op.issuer}/other` } };
    await refused(() => flow(), 400, /invalid_id_token/);
  });

  it('LC-13 an ID token for another client (aud) is refused', async () => {
    op.plan = { claims: { aud: 'other-client' } };
    await refused(() => flow(), 400, /invalid_id_token/);
  });

  it('LC-14 an ID token whose azp names another client is refused', async () => {
    op.plan = { claims: { aud: [CLIENT_ID, 'other-client'], azp: 'other-client' } };
    await refused(() => flow(), 400, /invalid_id_token/);
  });

  it('LC-15 an ID token without sub is refused', async () => {
    op.plan = { claims: { sub: undefined } };
    await refused(() => flow(), 400, /invalid_id_token/);
  });

  it('LC-16 an ID token issued in the future (iat) or already expired is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    // openid-client does not check iat; Keygate's own verifier then refuses the token it would hand out.
    op.plan = { claims: { iat: now + 3600, exp: now + 7200 } };
    await refused(() => flow(), 502, /unusable_token/);
    op.plan = { claims: { iat: now - 7200, exp: now - 3600 } };
    await refused(() => flow(), 400, /invalid_id_token/);
  });

  it('LC-17 an ID token signed with a key the provider never published is refused', async () => {
    op.plan = { signer: { key: op.attackerKey } };
    await refused(() => flow(), 400, /invalid_id_token/);
  });

  it('LC-18 an ID token with alg none is refused', async () => {
    op.plan = { signer: { none: true }, header: { alg: 'none' } };
    await refused(() => flow(), 400, /invalid_id_token/);
  });

  it('LC-19 an ID token signed HS256 with the client secret is refused (RS256 is the registered algorithm)', async () => {
    op.plan = { signer: { hmac: CLIENT_SECRET }, header: { alg: 'HS256' } };
    await refused(() => flow(), 400, /invalid_id_token/);
  });

  it('LC-20 the provider\'s error= with a hostile description is shown escaped, 4xx, without a session', async () => {
    const hostile = '<script>alert(1)</script>" onmouseover="x\r\nSet-Cookie: a=b';
    const r = await refused(
      () => flow((q) => {
        q.delete('code');
        q.set('error', 'access_denied');
        q.set('error_description', hostile);
      }),
      403,
      /access_denied/,
    );
    assert.doesNotMatch(r.body, /<script>alert/);
    assert.equal(r.response.headers['set-cookie']?.toString().includes('a=b'), false);
    assert.match(r.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  it('LC-21 an RFC 9207 iss parameter that differs from the issuer is refused', async () => {
    await refused(() => flow((q) => q.set('iss', 'https://evil.example')), 400, /invalid_issuer/);
    await refused(() => flow((q) => q.set('iss', `${op.issuer}/`)), 400, /invalid_issuer/);
  });

  it('LC-22 a callback without iss is refused when discovery advertises authorization_response_iss_parameter_supported', async () => {
    await refused(() => flow((q) => q.delete('iss')), 400, /invalid_issuer/);
    // Control: a provider that does not advertise it may omit iss.
    op.discovery = { authorization_response_iss_parameter_supported: undefined };
    const plain = await keygateAgainst(op);
    try {
      const started = await startLogin(plain);
      const query = await authorizeAtOp(started);
      query.delete('iss');
      assert.equal((await callback(plain, query, started.cookies)).status, 302);
    } finally {
      await plain.close();
    }
  });

  it('LC-23 implicit-flow parameters (id_token, access_token, token) in the callback are refused', async () => {
    for (const name of ['id_token', 'access_token', 'token']) {
      await refused(() => flow((q) => q.set(name, op.idToken())), 400, /invalid_request/);
    }
  });

  it('LC-24 a token endpoint that answers non-JSON gives 502', async () => {
    op.plan = { raw: { status: 200, headers: { 'content-type': 'text/html' }, body: '<html>oops</html>' } };
    await refused(() => flow(), 502, /provider_/);
  });

  it('LC-25 a token endpoint that answers 500 gives 502', async () => {
    op.plan = { raw: { status: 500, body: '{"error":"server_error"}' } };
    await refused(() => flow(), 502, /provider_/);
  });

  it('LC-26 a token_type other than Bearer (mac, DPoP, missing) gives 502', async () => {
    for (const token_type of ['mac', 'DPoP', undefined]) {
      op.plan = { response: { token_type } };
      await refused(() => flow(), 502, /provider_/);
    }
  });

  it('LC-27 a token endpoint that hangs gives 504 within PROVIDER_TIMEOUT_MS', async () => {
    op.plan = { raw: { hang: true } };
    await refused(() => flow(), 504, /provider_timeout/);
  });

  it('LC-28 open-redirect returnTo payloads all land on /key after login', async () => {
    const payloads = ['//evil.example', '/\\evil.example', '/\t/evil.example', '/\n/evil.example', 'https://evil.example/', 'http:evil.example',
      '/..//evil.example', '/%2F%2Fevil.example', '/%5Cevil.example', 'javascript:alert(1)', '\\\\evil.example', ' //evil.example'];
    for (const payload of payloads) {
      const { result } = await login(kg, `?returnTo=${encodeURIComponent(payload)}`);
      assert.ok(result.location === '/key' || (result.location!.startsWith('/') && !/^\/[/\\]/.test(result.location!) && new URL(result.location!, BASE).origin === BASE), `${JSON.stringify(payload)} → ${result.location}`);
    }
    const { result } = await login(kg, `?returnTo=${encodeURIComponent('/key?tab=1')}`);
    assert.equal(result.location, '/key?tab=1');
  });

  it('LC-29 a forged Host or X-Forwarded-Host does not change the redirect_uri sent to the provider', async () => {
    const response = await kg.app.inject({ method: 'GET', url: '/login', headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' } });
    assert.equal(response.statusCode, 302);
    const location = new URL(response.headers.location as string);
    assert.equal(location.origin, op.origin);
    assert.equal(location.searchParams.get('redirect_uri'), `${BASE}/callback`);
  });

  it('LC-30 a discovery document whose issuer differs from ISSUER_URL is refused (502 on /login, 503 on the API)', async () => {
    op.discovery = { issuer: 'https://evil.example' };
    const fresh = await keygateAgainst(op);
    try {
      const r = await fresh.app.inject({ method: 'GET', url: '/login', headers: { accept: 'text/html' } });
      assert.equal(r.statusCode, 502);
      const api = await fresh.app.inject({ method: 'GET', url: '/protected', headers: { authorization: `Bearer ${op.idToken()}` } });
      assert.equal(api.statusCode, 503);
    } finally {
      await fresh.close();
    }
  });

  it('LC-31 a userinfo answer for another sub ends the login', async () => {
    op.discovery = { userinfo_endpoint: `${op.origin}/userinfo` };
    op.userinfo = { sub: 'someone-else', email: 'mallory@example.com' };
    const fresh = await keygateAgainst(op);
    try {
      const started = await startLogin(fresh);
      const r = await callback(fresh, await authorizeAtOp(started), started.cookies);
      assert.ok(r.status === 400 || r.status === 502, String(r.status));
      assert.equal((await fresh.store.stats()).sessions, 0);
    } finally {
      await fresh.close();
    }
  });

  it('LC-32 a token response without id_token is refused', async () => {
    op.plan = { response: { id_token: undefined } };
    const r = await flow();
    assert.ok(r.status === 400 || r.status === 502, String(r.status));
    assert.equal([...r.cookies.keys()].some((n) => n.includes('keygate_session') && r.cookies.get(n) !== ''), false);
  });

  it('LC-33 an ID token signed with another RS256 key under a kid the provider does not publish is refused', async () => {
    const stranger = makeKey('unknown-kid');
    op.plan = { signer: { key: stranger } };
    await refused(() => flow(), 400, /invalid_id_token/);
  });

  it('LC-34 a callback is not accepted as a POST (form_post) nor with a huge query', async () => {
    const started = await startLogin(kg);
    const query = await authorizeAtOp(started);
    const post = await kg.app.inject({ method: 'POST', url: '/callback', payload: query.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...started.cookies].map(([n, v]) => `${n}=${v}`).join('; ') } });
    assert.equal(post.statusCode, 404);
    query.set('junk', 'x'.repeat(8000));
    const r = await callback(kg, query, started.cookies);
    assert.ok(r.status < 500, String(r.status));
  });

  it('LC-36 a callback with the right state but no code, or an empty code, is the client\'s 400, not a provider fault', async () => {
    await refused(() => flow((q) => q.delete('code')), 400, /invalid_request/);
    await refused(() => flow((q) => q.set('code', '')), 400, /invalid_request/);
  });

  it('LC-37 one byte damaged anywhere in the ID token the token endpoint returns: no session, 400 or 502, never 500', async () => {
    // Find where the id_token sits in the token endpoint's JSON answer (its layout and length do not change).
    const probe = await startLogin(kg);
    const probeQuery = await authorizeAtOp(probe);
    let body = '';
    op.damage = { path: '/token', apply: (b) => ((body = b.toString()), b) };
    assert.equal((await callback(kg, probeQuery, probe.cookies)).status, 302);
    const start = body.indexOf('"id_token":"') + '"id_token":"'.length;
    const end = body.indexOf('"', start);
    assert.ok(start > 20 && end > start + 100);
    const before = await sessions();
    let tried = 0;
    for (let offset = 0; offset < end - start; offset += 5) {
      op.damage = { path: '/token', apply: flipByte(start + offset) };
      const r = await flow();
      assert.ok(r.status === 400 || r.status === 502, `byte ${offset}: ${r.status} ${textOf(r.body).slice(0, 200)}`);
      assert.equal([...r.cookies].some(([n, v]) => n.includes('keygate_session') && v !== ''), false, `byte ${offset}: a session cookie`);
      tried++;
    }
    assert.equal(await sessions(), before, 'no damaged ID token made a session');
    assert.ok(tried > 100, String(tried));
  });

  it('LC-35 a loadConfig without CLIENT_SECRET or with an http non-loopback issuer is refused before any login', () => {
    assert.throws(() => loadConfig({ ISSUER_URL: op.issuer, CLIENT_ID, SECRET_KEY: 's'.repeat(40) }), /CLIENT_SECRET/);
    assert.throws(() => loadConfig({ ISSUER_URL: 'http://idp.example.com', CLIENT_ID, CLIENT_SECRET, SECRET_KEY: 's'.repeat(40) }), /ISSUER_URL/);
  });
});
