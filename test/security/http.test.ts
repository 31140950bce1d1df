import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startHostileOp, type HostileOp } from './hostile-op.js';
import { keygateAgainst, login, protectedCall, type KeygateUnderTest } from './harness.js';

/** RFC 6750 §3: `Bearer` alone, or auth-params whose quoted values hold only the allowed characters. */
const CHALLENGE = /^Bearer(?: [a-z_]+="[\x20\x21\x23-\x5b\x5d-\x7e]*"(?:, [a-z_]+="[\x20\x21\x23-\x5b\x5d-\x7e]*")*)?$/;

/** Raw HTTP/1.1 over one socket: several requests on one keep-alive connection, answers split by status line. */
function rawExchange(port: number, requests: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(data));
    socket.on('connect', async () => {
      for (const request of requests) {
        socket.write(request);
        await new Promise((r) => setTimeout(r, 150));
      }
      setTimeout(() => socket.end(), 200);
    });
  });
}

/** HTTP-level cases (HT-*). */
describe('HTTP-level hostile requests', () => {
  let op: HostileOp;
  let kg: KeygateUnderTest;
  let token: string;
  let cookie: string;

  before(async () => {
    op = await startHostileOp();
    kg = await keygateAgainst(op);
    ({ token, cookie } = await login(kg));
  });
  after(async () => {
    await kg.close();
    await op.close();
  });

  async function bad(authorization: string | undefined, status: number, error: string, extra: Parameters<typeof protectedCall>[2] = {}) {
    const r = await protectedCall(kg, authorization, extra);
    assert.equal(r.status, status, `${JSON.stringify(authorization)?.slice(0, 60)}: ${JSON.stringify(r.body)}`);
    assert.equal(r.error, error);
    assert.match(r.challenge ?? '', CHALLENGE);
    return r;
  }

  it('HT-01 no Authorization header: 401 with a bare "Bearer" challenge and a JSON body', async () => {
    const r = await bad(undefined, 401, 'unauthorized');
    assert.equal(r.challenge, 'Bearer');
  });

  it('HT-02 other schemes (Basic, Digest, Token, DPoP, a JWT inside Basic): 401 with a bare challenge', async () => {
    for (const value of ['Basic dXNlcjpwYXNz', `Basic ${Buffer.from(token).toString('base64')}`, `Basic ${token}`, 'Digest username="a"', `Token ${token}`, `DPoP ${token}`]) {
      const r = await bad(value, 401, 'unauthorized');
      assert.equal(r.challenge, 'Bearer');
    }
  });

  it('HT-03 an empty token ("Bearer", "Bearer ", an empty header): 400 invalid_request', async () => {
    for (const value of ['Bearer', 'Bearer ', 'bearer    ', '']) await bad(value, 400, 'invalid_request');
  });

  it('HT-04 a split token or several tokens in one header: 400 invalid_request', async () => {
    const [h, p, s] = token.split('.');
    for (const value of [`Bearer ${h}.${p} .${s}`, `Bearer ${token} ${token}`, `Bearer ${token}, Bearer ${token}`, `Bearer ${token},`]) await bad(value, 400, 'invalid_request');
  });

  it('HT-05 characters outside the b64token set (quotes, comma, semicolon, @, non-ASCII, NUL): 400 invalid_request', async () => {
    for (const c of ['"', ',', ';', '@', 'é', '\u0000', '\\', '(', '<']) {
      const r = await kg.app.inject({ method: 'GET', url: '/protected', headers: { authorization: `Bearer ${token.slice(0, 20)}${c}${token.slice(20)}` } });
      assert.equal(r.statusCode, 400, JSON.stringify(c));
      assert.match(String(r.headers['www-authenticate']), CHALLENGE);
    }
  });

  it('HT-06 a token in the query as well as the header, or only in the query: 400 invalid_request', async () => {
    await bad(`Bearer ${token}`, 400, 'invalid_request', { url: `/protected?access_token=${token}` });
    await bad(undefined, 400, 'invalid_request', { url: `/protected?access_token=${token}` });
  });

  it('HT-07 a token in a form body as well as the header (POST /logout): 400 invalid_request, nothing ends', async () => {
    const r = await kg.app.inject({
      method: 'POST',
      url: '/logout',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `access_token=${token}`,
    });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().error, 'invalid_request');
    assert.equal((await protectedCall(kg, `Bearer ${token}`)).status, 200);
  });

  it('HT-08 two Authorization headers: 400 invalid_request', async () => {
    const port = await listening();
    const answer = await rawExchange(port, [`GET /protected HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`]);
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /invalid_request/);
  });

  let port: number | undefined;
  async function listening(): Promise<number> {
    if (port === undefined) {
      await kg.app.listen({ host: '127.0.0.1', port: 0 });
      port = (kg.app.server.address() as { port: number }).port;
    }
    return port;
  }

  it('HT-09 20 kB of headers: 431, on a fresh and on a keep-alive connection, and the process keeps serving', async () => {
    const p = await listening();
    const huge = `X-Junk: ${'a'.repeat(20 * 1024)}\r\n`;
    const fresh = await rawExchange(p, [`GET /protected HTTP/1.1\r\nHost: x\r\n${huge}\r\n`]);
    assert.match(fresh, /^HTTP\/1\.1 431 /);
    assert.match(fresh, /\r\ncontent-security-policy: [^\r]*frame-ancestors 'none'/i);
    assert.match(fresh, /\r\nx-content-type-options: nosniff/i);
    assert.match(fresh, /"error":"invalid_request"/);
    const garbage = await rawExchange(p, ['NOT HTTP AT ALL\r\n\r\n']);
    assert.match(garbage, /^HTTP\/1\.1 400 /);
    assert.match(garbage, /\r\nreferrer-policy: no-referrer/i);
    const keepAlive = await rawExchange(p, [`GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`, `GET /protected HTTP/1.1\r\nHost: x\r\n${huge}\r\n`]);
    assert.match(keepAlive, /^HTTP\/1\.1 200 /);
    assert.match(keepAlive, /HTTP\/1\.1 431 /);
    const after = await fetch(`http://127.0.0.1:${p}/protected`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(after.status, 200);
  });

  it('HT-10 quotes, backslashes, CR/LF and non-ASCII that reach error text keep WWW-Authenticate well-formed', async () => {
    const hostile = ['x"y', 'a\\"b', 'evil\r\nSet-Cookie: a=b', 'ü"\u2028', '" error="insufficient_scope'];
    for (const typ of hostile) {
      const r = await protectedCall(kg, `Bearer ${op.idToken({ header: { typ } })}`);
      assert.equal(r.status, 401);
      assert.match(r.challenge ?? '', CHALLENGE, r.challenge);
      assert.equal((r.challenge!.match(/error="/g) ?? []).length, 1);
    }
    // Echoed text stays short: a 5 kB typ does not become a 5 kB header.
    const long = await protectedCall(kg, `Bearer ${op.idToken({ header: { typ: 'x'.repeat(5000) } })}`);
    assert.equal(long.status, 401);
    assert.ok(long.challenge!.length < 300, String(long.challenge!.length));
    for (const scheme of ['X"y', "Na'me"]) {
      const r = await protectedCall(kg, `${scheme} abc`);
      assert.match(r.challenge ?? '', CHALLENGE);
    }
  });

  it('HT-11 security headers on every answer: pages, JSON, errors, 404, redirects, static files', async () => {
    const answers = await Promise.all([
      kg.app.inject({ method: 'GET', url: '/' }),
      kg.app.inject({ method: 'GET', url: '/key', headers: { cookie } }),
      kg.app.inject({ method: 'GET', url: '/protected' }),
      kg.app.inject({ method: 'GET', url: '/protected', headers: { authorization: `Bearer ${token}` } }),
      kg.app.inject({ method: 'GET', url: '/nowhere', headers: { accept: 'text/html' } }),
      kg.app.inject({ method: 'GET', url: '/nowhere' }),
      kg.app.inject({ method: 'GET', url: '/login' }),
      kg.app.inject({ method: 'GET', url: '/callback?code=x&state=y', headers: { accept: 'text/html' } }),
      kg.app.inject({ method: 'GET', url: '/static/key.js' }),
      kg.app.inject({ method: 'GET', url: '/static/nothing.js' }),
      kg.app.inject({ method: 'POST', url: '/logout', headers: { 'content-type': 'application/json' }, payload: '{bad' }),
      kg.app.inject({ method: 'GET', url: '/healthz' }),
      kg.app.inject({ method: 'DELETE', url: '/protected' }),
      kg.app.inject({ method: 'GET', url: '/static/key/live.js' }),
    ]);
    for (const r of answers) {
      const where = `${r.statusCode} ${r.raw.req.url}`;
      assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/, where);
      assert.match(String(r.headers['content-security-policy']), /default-src 'none'/, where);
      assert.equal(r.headers['referrer-policy'], 'no-referrer', where);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', where);
      assert.ok(r.statusCode < 500, where);
    }
    assert.equal(answers[8]!.statusCode, 200, 'the static file exists');
    // Module scripts run only when served with a JavaScript type (nosniff makes browsers strict about it).
    for (const module of [answers[8]!, answers[13]!]) {
      assert.equal(module.statusCode, 200, module.raw.req.url);
      assert.equal(module.headers['content-type'], 'text/javascript; charset=utf-8', module.raw.req.url);
    }
  });

  it('HT-12 /protected never allows credentials cross-origin, whatever Origin is sent', async () => {
    for (const origin of ['https://evil.example', 'null']) {
      const r = await kg.app.inject({ method: 'GET', url: '/protected', headers: { origin, authorization: `Bearer ${token}` } });
      assert.equal(r.headers['access-control-allow-credentials'], undefined);
      const pre = await kg.app.inject({ method: 'OPTIONS', url: '/protected', headers: { origin, 'access-control-request-method': 'GET' } });
      assert.equal(pre.headers['access-control-allow-credentials'], undefined);
    }
  });

  it('HT-13 a body over 16 kB is 413 and malformed JSON is 400, never 500', async () => {
    const big = await kg.app.inject({ method: 'POST', url: '/logout', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `a=${'x'.repeat(20_000)}` });
    assert.equal(big.statusCode, 413);
    const json = await kg.app.inject({ method: 'POST', url: '/logout', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    assert.equal(json.statusCode, 400);
    const type = await kg.app.inject({ method: 'POST', url: '/logout', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    assert.equal(type.statusCode, 415);
  });

  it('HT-14 malformed URLs (bad percent-encoding, NUL, overlong paths) answer 4xx, never 500', async () => {
    for (const url of ['/protected%', '/%E0%A4%A', '/callback?state=%ZZ&code=%', '/static/%00', `/static/${'a'.repeat(300)}`, '/..%2f..%2fetc%2fpasswd', '/static/..%2F..%2Fpackage.json', '/static/key/..%2F..%2Fpackage.json', '/static/key/../../package.json', '/static/key/%2e%2e/%2e%2e/package.json', '/static/key/format.d.ts', '/static/key/']) {
      const r = await kg.app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${url} → ${r.statusCode}`);
      assert.doesNotMatch(r.body, /"name": ?"keygate"/);
    }
  });

  it('HT-15 tokens never appear in a URL Keygate builds (login redirect, logout redirect)', async () => {
    const l = await kg.app.inject({ method: 'GET', url: '/login' });
    assert.doesNotMatch(String(l.headers.location), /eyJ/);
    const other = await login(kg);
    const out = await kg.app.inject({ method: 'POST', url: '/logout', headers: { cookie: other.cookie, 'sec-fetch-site': 'same-origin' } });
    assert.equal(out.statusCode, 303);
    assert.ok(!String(out.headers.location).includes(other.token));
  });
});
