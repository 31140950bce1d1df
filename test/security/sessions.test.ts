import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { buildApp } from '../../src/http/app.js';
import { loadConfig } from '../../src/config/index.js';
import { startHostileOp, CLIENT_ID, CLIENT_SECRET, type HostileOp } from './hostile-op.js';
import { authorizeAtOp, callback, keygateAgainst, login, protectedCall, startLogin, type KeygateUnderTest } from './harness.js';

/** Every other string that a lenient decoder would read as the same token. */
function reEncodings(token: string): string[] {
  const [h, p, s] = token.split('.') as [string, string, string];
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const twin = (segment: string) => {
    const last = segment.at(-1)!;
    const flipped = alphabet[alphabet.indexOf(last) ^ 1]!;
    return Buffer.from(segment.slice(0, -1) + flipped, 'base64url').equals(Buffer.from(segment, 'base64url')) ? segment.slice(0, -1) + flipped : undefined;
  };
  const std = (segment: string) => Buffer.from(segment, 'base64url').toString('base64');
  const forms = [
    `${token}=`,
    `${token}==`,
    `${h}.${p}.${std(s)}`,
    `${h}.${p}.${std(s).replace(/=+$/, '')}`,
    `${std(h).replace(/=+$/, '')}.${p}.${s}`,
    `${h}.${std(p).replace(/=+$/, '')}.${s}`,
    `${h}=.${p}.${s}`,
  ];
  for (const [i, seg] of [h, p, s].entries()) {
    const t = twin(seg);
    if (t !== undefined) forms.push([h, p, s].map((x, j) => (j === i ? t : x)).join('.'));
  }
  return [...new Set(forms)].filter((f) => f !== token);
}

/** Sessions and logout (SL-*). */
describe('sessions and logout against a hostile provider', () => {
  let op: HostileOp;
  let kg: KeygateUnderTest;
  let kgOpen: KeygateUnderTest; // REQUIRE_SESSION=false: revocation list instead of live sessions

  before(async () => {
    op = await startHostileOp();
    kg = await keygateAgainst(op);
    kgOpen = await keygateAgainst(op, { REQUIRE_SESSION: 'false' });
  });
  afterEach(() => op.reset());
  after(async () => {
    await Promise.all([kg.close(), kgOpen.close()]);
    await op.close();
  });

  const logoutWithCookie = (k: KeygateUnderTest, cookie: string, headers: Record<string, string> = { 'sec-fetch-site': 'same-origin' }) =>
    k.app.inject({ method: 'POST', url: '/logout', headers: { cookie, accept: 'application/json', ...headers } });

  it('SL-01 a token logged out by cookie stays refused in every re-encoding that still decodes to the same bytes', async () => {
    const { cookie, token } = await login(kg);
    assert.equal((await protectedCall(kg, `Bearer ${token}`)).status, 200);
    assert.equal((await logoutWithCookie(kg, cookie)).statusCode, 200);
    const forms = reEncodings(token);
    assert.ok(forms.length >= 6, String(forms.length));
    for (const form of [token, ...forms]) {
      const r = await protectedCall(kg, `Bearer ${form}`);
      assert.ok(r.status === 401 || r.status === 400, `${r.status} for ${form.slice(-12)}`);
    }
    for (const header of [`bearer ${token}`, `BEARER   ${token}  `]) assert.equal((await protectedCall(kg, header)).status, 401);
  });

  it('SL-02 with REQUIRE_SESSION=false, a token revoked by bearer logout stays revoked in every re-encoding', async () => {
    const token = op.idToken();
    assert.equal((await protectedCall(kgOpen, `Bearer ${token}`)).status, 200);
    const out = await kgOpen.app.inject({ method: 'POST', url: '/logout', headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(out.json(), { status: 'logged_out', ended: true });
    for (const form of [token, ...reEncodings(token)]) {
      const r = await protectedCall(kgOpen, `Bearer ${form}`);
      assert.ok(r.status === 401 || r.status === 400, `${r.status} for ${form.slice(-12)}`);
    }
    // The decisive refusal comes from the revocation list, not from a parse error: the canonical form says so.
    assert.match(String((await protectedCall(kgOpen, `Bearer ${token}`)).body.error_description), /revoked/);
  });

  it('SL-03 logging out one login leaves another login of the same user alive', async () => {
    const a = await login(kg);
    const b = await login(kg);
    assert.notEqual(a.token, b.token);
    await logoutWithCookie(kg, a.cookie);
    assert.equal((await protectedCall(kg, `Bearer ${a.token}`)).status, 401);
    assert.equal((await protectedCall(kg, `Bearer ${b.token}`)).status, 200);
    assert.equal((await kg.app.inject({ method: 'GET', url: '/key', headers: { cookie: b.cookie } })).statusCode, 200);
  });

  it('SL-04 cookies over http are HttpOnly and SameSite=Lax, without Secure or the __Host- prefix', async () => {
    const started = await kg.app.inject({ method: 'GET', url: '/login' });
    const tx = String(started.headers['set-cookie']);
    assert.match(tx, /^keygate_tx_[\w-]{22}=/);
    assert.match(tx, /HttpOnly/);
    assert.match(tx, /SameSite=Lax/);
    assert.doesNotMatch(tx, /Secure|Domain=/);
    const { result } = await login(kg);
    const session = String(result.response.headers['set-cookie']).split(/,(?=\s*\w+=)/).find((c) => c.trim().startsWith('keygate_session='))!;
    assert.match(session, /HttpOnly/);
    assert.match(session, /SameSite=Lax/);
    assert.match(session, /Path=\//);
  });

  it('SL-05 over https (BASE_URL) both cookies get Secure, Path=/, no Domain, and the __Host- prefix', async () => {
    const secure = await keygateAgainst(op, { BASE_URL: 'https://keygate.example' });
    try {
      const started = await startLogin(secure);
      assert.equal(started.cookies.size, 1);
      const [[txName, txValue]] = [...started.cookies] as [[string, string]];
      assert.match(txName, /^__Host-keygate_tx_[\w-]{22}$/);
      const query = await authorizeAtOp(started);
      // The unprefixed transaction name is not read over https (and that try does not use the login up).
      const plain = await callback(secure, query, `${txName.slice('__Host-'.length)}=${txValue}`);
      assert.equal(plain.status, 400);
      assert.match(plain.body, /login_expired/);
      const r = await callback(secure, query, started.cookies);
      assert.equal(r.status, 302);
      const lines = ([] as string[]).concat(r.response.headers['set-cookie'] as string | string[]);
      const session = lines.find((l) => l.startsWith('__Host-keygate_session='))!;
      assert.ok(session, lines.join(' | '));
      for (const flag of [/; Secure/, /; HttpOnly/, /; SameSite=Lax/, /; Path=\//]) assert.match(session, flag);
      assert.doesNotMatch(session, /Domain=/i);
      // The unprefixed name is not read over https.
      const value = r.cookies.get('__Host-keygate_session')!;
      const key = await secure.app.inject({ method: 'GET', url: '/key', headers: { cookie: `keygate_session=${value}` } });
      assert.equal(key.statusCode, 302);
    } finally {
      await secure.close();
    }
  });

  it('SL-06 each login gets a new session id, and the session the browser had before ends', async () => {
    const first = await login(kg);
    const started = await startLogin(kg);
    const cookies = new Map(started.cookies);
    const [name, value] = first.cookie.split('=') as [string, string];
    cookies.set(name, value);
    const second = await callback(kg, await authorizeAtOp(started), cookies);
    assert.equal(second.status, 302);
    assert.notEqual(second.cookies.get(name), value);
    assert.equal((await protectedCall(kg, `Bearer ${first.token}`)).status, 401);
    assert.equal((await kg.app.inject({ method: 'GET', url: '/key', headers: { cookie: first.cookie } })).statusCode, 302);
  });

  it('SL-07 a cross-site POST /logout (Sec-Fetch-Site cross-site or same-site, or a foreign Origin) is refused and ends nothing', async () => {
    const { cookie, token } = await login(kg);
    for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'https://evil.example' }, { origin: 'null' }] as Array<Record<string, string>>) {
      const r = await logoutWithCookie(kg, cookie, headers);
      assert.equal(r.statusCode, 403, JSON.stringify(headers));
      assert.equal(r.json().error, 'cross_site_request');
    }
    assert.equal((await protectedCall(kg, `Bearer ${token}`)).status, 200);
  });

  it('SL-08 GET /logout with only a cookie (a link from anywhere) asks first and ends nothing', async () => {
    const { cookie, token } = await login(kg);
    const r = await kg.app.inject({ method: 'GET', url: '/logout', headers: { cookie, 'sec-fetch-site': 'cross-site' } });
    assert.equal(r.statusCode, 200);
    assert.match(r.body, /<form[^>]*method="post"/i);
    assert.equal((await protectedCall(kg, `Bearer ${token}`)).status, 200);
  });

  it('SL-09 a user removed from ALLOWED_USERS loses access at once (same store, restarted with the new list)', async () => {
    const before = await keygateAgainst(op, { ALLOWED_USERS: 'alice@example.com' });
    try {
      const { token, cookie } = await login(before);
      assert.equal((await protectedCall(before, `Bearer ${token}`)).status, 200);
      const config = loadConfig({ ...envOf(op), ALLOWED_USERS: 'bob@example.com' });
      const app = await buildApp(config, { store: before.store, logger: false });
      try {
        const r = await app.inject({ method: 'GET', url: '/protected', headers: { authorization: `Bearer ${token}` } });
        assert.equal(r.statusCode, 403);
        assert.equal(r.json().error, 'access_denied');
        const page = await app.inject({ method: 'GET', url: '/key', headers: { cookie } });
        assert.equal(page.statusCode, 403);
        assert.ok(!page.body.includes(token), 'the key page no longer shows the token');
      } finally {
        await app.close();
      }
    } finally {
      await before.close();
    }
  });

  it('SL-10 a forged session cookie (unsigned, signed with another key, wrong format) logs nobody out', async () => {
    const victim = await login(kg);
    const stats = await kg.store.stats();
    const id = victim.cookie.split('=')[1]!.split('.')[0]!;
    for (const forged of [`keygate_session=${id}`, `keygate_session=${id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, 'keygate_session=../../x', `keygate_session=${'a'.repeat(600)}`]) {
      const r = await logoutWithCookie(kg, forged);
      assert.equal(r.statusCode, 200);
      assert.equal(r.json().ended, false);
    }
    assert.deepEqual(await kg.store.stats(), stats);
    assert.equal((await protectedCall(kg, `Bearer ${victim.token}`)).status, 200);
  });

  it('SL-11 a repeated logout changes nothing the second time', async () => {
    const { cookie } = await login(kg);
    assert.equal((await logoutWithCookie(kg, cookie)).json().ended, true);
    const stats = await kg.store.stats();
    assert.equal((await logoutWithCookie(kg, cookie)).json().ended, false);
    assert.deepEqual(await kg.store.stats(), stats);
  });

  it('SL-12 a bearer logout with a forged or foreign token revokes nothing', async () => {
    const stats = await kgOpen.store.stats();
    for (const forged of [op.idToken({ signer: { key: op.attackerKey } }), op.idToken({ claims: { aud: 'other' } }), 'a.b.c']) {
      const r = await kgOpen.app.inject({ method: 'POST', url: '/logout', headers: { authorization: `Bearer ${forged}` } });
      assert.equal(r.statusCode, 401);
    }
    assert.deepEqual(await kgOpen.store.stats(), stats);
  });

  it('SL-13 a bearer logout ends the login that issued the token at once (control), its key page included', async () => {
    const { cookie, token } = await login(kg);
    const r = await kg.app.inject({ method: 'POST', url: '/logout', headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(r.json(), { status: 'logged_out', ended: true });
    assert.equal((await protectedCall(kg, `Bearer ${token}`)).status, 401);
    assert.equal((await kg.app.inject({ method: 'GET', url: '/key', headers: { cookie } })).statusCode, 302);
  });

  it('SL-14 a session cookie with a tampered signature is signed out, not an error', async () => {
    const { cookie } = await login(kg);
    const tampered = cookie.slice(0, -3) + (cookie.endsWith('AAA') ? 'BBB' : 'AAA');
    const r = await kg.app.inject({ method: 'GET', url: '/key', headers: { cookie: tampered } });
    assert.equal(r.statusCode, 302);
    assert.equal(r.headers.location, '/');
  });

  it('SL-15 the session cookie holds no token: only a signed 256-bit id', async () => {
    const { cookie, token } = await login(kg);
    assert.ok(!cookie.includes(token.split('.')[1]!));
    assert.match(decodeURIComponent(cookie), /^keygate_session=[A-Za-z0-9_-]{43}\.[A-Za-z0-9+/_-]+=*$/);
  });
});

function envOf(op: HostileOp): Record<string, string> {
  return { HOST: '127.0.0.1', PORT: '5080', ISSUER_URL: op.issuer, CLIENT_ID, CLIENT_SECRET, SECRET_KEY: 's'.repeat(48), LOG_LEVEL: 'silent' };
}
