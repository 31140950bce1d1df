import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RateLimiter } from '../../src/http/rate-limit.js';
import { startHostileOp, type HostileOp } from './hostile-op.js';
import { keygateAgainst, login, protectedCall, type KeygateUnderTest } from './harness.js';

/** Rate limits (RL-*): per client address, 429 with Retry-After, configurable and off; a fake clock, injected. */
describe('rate limits on /login, /callback and failed bearer attempts', () => {
  let op: HostileOp;
  let clock = Date.now();
  const now = () => clock;
  const open: KeygateUnderTest[] = [];
  const start = async (env: Record<string, string>) => {
    const kg = await keygateAgainst(op, env, {}, now);
    open.push(kg);
    return kg;
  };

  before(async () => {
    op = await startHostileOp();
  });
  after(async () => {
    await Promise.all(open.map((kg) => kg.close()));
    await op.close();
  });

  const get = (kg: KeygateUnderTest, url: string, headers: Record<string, string> = {}) => kg.app.inject({ method: 'GET', url, headers: { accept: 'text/html', ...headers } });

  it('RL-01 /login over RATE_LIMIT_LOGIN: 429 page with Retry-After, escaped HTML; allowed again after the window', async () => {
    const kg = await start({ RATE_LIMIT_LOGIN: '3/1m' });
    for (let i = 0; i < 3; i++) assert.equal((await get(kg, '/login')).statusCode, 302);
    const r = await get(kg, '/login?returnTo=%3Cscript%3E');
    assert.equal(r.statusCode, 429);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.match(r.body, /too_many_requests/);
    const retry = Number(r.headers['retry-after']);
    assert.ok(retry >= 1 && retry <= 60, String(retry));
    assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/);
    clock += 60_000;
    assert.equal((await get(kg, '/login')).statusCode, 302);
  });

  it('RL-02 /callback over RATE_LIMIT_CALLBACK: 429 page with Retry-After, before any state check', async () => {
    const kg = await start({ RATE_LIMIT_CALLBACK: '2/30s' });
    for (let i = 0; i < 2; i++) assert.equal((await get(kg, '/callback?code=x&state=y')).statusCode, 400);
    const r = await get(kg, '/callback?code=x&state=y');
    assert.equal(r.statusCode, 429);
    assert.ok(Number(r.headers['retry-after']) <= 30);
    assert.match(r.body, /too_many_requests/);
  });

  it('RL-03 repeated failed bearer attempts: 429 JSON with Retry-After; successes and requests without credentials do not count', async () => {
    const kg = await start({ RATE_LIMIT_BEARER_FAILURES: '5/1m', REQUIRE_SESSION: 'false' });
    const good = op.idToken();
    for (let i = 0; i < 20; i++) assert.equal((await protectedCall(kg, `Bearer ${good}`)).status, 200);
    for (let i = 0; i < 20; i++) assert.equal((await protectedCall(kg, undefined)).status, 401);
    // HEAD (which Fastify answers for every GET route) counts and is limited like GET.
    for (let i = 0; i < 3; i++) assert.equal((await protectedCall(kg, 'Bearer a.b.c')).status, 401);
    for (let i = 0; i < 2; i++) assert.equal((await kg.app.inject({ method: 'HEAD', url: '/protected', headers: { authorization: 'Bearer a.b.c' } })).statusCode, 401);
    const r = await kg.app.inject({ method: 'GET', url: '/protected', headers: { authorization: 'Bearer a.b.c' } });
    assert.equal(r.statusCode, 429);
    assert.deepEqual(Object.keys(r.json()).sort(), ['error', 'error_description']);
    assert.equal(r.json().error, 'too_many_requests');
    assert.ok(Number(r.headers['retry-after']) >= 1);
    assert.equal((await protectedCall(kg, `Bearer ${good}`)).status, 429, 'the address is blocked, whatever it sends');
    assert.equal((await kg.app.inject({ method: 'HEAD', url: '/protected', headers: { authorization: 'Bearer a.b.c' } })).statusCode, 429);
    clock += 61_000;
    assert.equal((await protectedCall(kg, `Bearer ${good}`)).status, 200);
  });

  it('RL-04 "off" disables each limit', async () => {
    const kg = await start({ RATE_LIMIT_LOGIN: 'off', RATE_LIMIT_CALLBACK: 'off', RATE_LIMIT_BEARER_FAILURES: 'off' });
    assert.equal(kg.config.rateLimitLogin, undefined);
    for (let i = 0; i < 700; i++) assert.equal((await get(kg, '/login')).statusCode, 302);
    for (let i = 0; i < 700; i++) assert.equal((await protectedCall(kg, 'Bearer a.b.c')).status, 401);
  });

  it('RL-05 the defaults are generous: one address logs in 300 times in a minute', async () => {
    const kg = await start({});
    assert.deepEqual(kg.config.rateLimitLogin, { max: 600, windowMs: 60_000 });
    for (let i = 0; i < 300; i++) await login(kg);
    assert.equal((await kg.store.stats()).sessions, 300);
  });

  it('RL-06 without TRUST_PROXY, X-Forwarded-For is ignored: a new forged address per request does not escape the limit', async () => {
    const kg = await start({ RATE_LIMIT_LOGIN: '3/1m' });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await get(kg, '/login', { 'x-forwarded-for': `203.0.113.${i}` })).statusCode);
    assert.deepEqual(codes, [302, 302, 302, 429]);
  });

  it('RL-07 with TRUST_PROXY=true, X-Forwarded-For names the client: separate addresses, separate limits', async () => {
    const kg = await start({ RATE_LIMIT_LOGIN: '2/1m', TRUST_PROXY: 'true' });
    const a = [];
    for (let i = 0; i < 3; i++) a.push((await get(kg, '/login', { 'x-forwarded-for': '203.0.113.7' })).statusCode);
    assert.deepEqual(a, [302, 302, 429]);
    assert.equal((await get(kg, '/login', { 'x-forwarded-for': '203.0.113.8' })).statusCode, 302);
  });

  it('RL-08 TRUST_PROXY as a list or hop count trusts only those proxies', async () => {
    const trusted = await start({ RATE_LIMIT_LOGIN: '1/1m', TRUST_PROXY: '127.0.0.1,::1' });
    assert.equal((await get(trusted, '/login', { 'x-forwarded-for': '198.51.100.1' })).statusCode, 302);
    assert.equal((await get(trusted, '/login', { 'x-forwarded-for': '198.51.100.2' })).statusCode, 302);
    const other = await start({ RATE_LIMIT_LOGIN: '1/1m', TRUST_PROXY: '10.0.0.0/8' });
    assert.equal((await get(other, '/login', { 'x-forwarded-for': '198.51.100.1' })).statusCode, 302);
    assert.equal((await get(other, '/login', { 'x-forwarded-for': '198.51.100.2' })).statusCode, 429, 'the peer is not a trusted proxy');
    const hops = await start({ RATE_LIMIT_LOGIN: '1/1m', TRUST_PROXY: '1' });
    // One trusted hop: the address just before the proxy counts, whatever the client put further left.
    assert.equal((await get(hops, '/login', { 'x-forwarded-for': '1.1.1.1, 198.51.100.9' })).statusCode, 302);
    assert.equal((await get(hops, '/login', { 'x-forwarded-for': '2.2.2.2, 198.51.100.9' })).statusCode, 429);
  });

  it('RL-09 the limiter keeps bounded memory (least recently used addresses go first) and windows expire', () => {
    let t = 0;
    const limiter = new RateLimiter({ max: 2, windowMs: 1000 }, () => t, 100);
    for (let i = 0; i < 10_000; i++) limiter.hit(`10.0.${i >> 8}.${i & 255}`);
    assert.equal(limiter.size, 100);
    assert.equal(limiter.hit('a'), undefined);
    assert.equal(limiter.hit('a'), undefined);
    assert.equal(limiter.hit('a'), 1);
    assert.equal(limiter.blocked('a'), 1);
    t += 1000;
    assert.equal(limiter.blocked('a'), undefined);
  });
});
