import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import cookie from '@fastify/cookie';
import * as jose from 'jose';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { Cookies } from '../../src/http/cookies.js';
import { startKeygate, type RunningKeygate } from '../../src/server.js';
import { Agent, decode } from '../helpers/agent.js';
import { throughProvider } from '../helpers/keygate.js';
import { freePort } from '../helpers/net.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

describe('edge configuration: ROUTES, ALLOWED_REDIRECT_HOSTS, COOKIE_DOMAIN', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'keygate-edge-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ROUTES is read once at start-up; a missing file, bad JSON and bad rules are all reported by name', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify([{ path: '/public/*', public: true }]));
    assert.deepEqual(loadConfig({ ROUTES: good }).routes, [{ path: '/public/*', public: true }]);
    assert.deepEqual(loadConfig({}).routes, []);
    assert.match(problemsOf({ ROUTES: join(dir, 'missing.json') }).join('\n'), /^ROUTES: the file .* cannot be read \(ENOENT\)/m);
    writeFileSync(join(dir, 'bad.json'), '[{"path": ');
    assert.match(problemsOf({ ROUTES: join(dir, 'bad.json') }).join('\n'), /^ROUTES: the file .* is not valid JSON/m);
    writeFileSync(join(dir, 'rules.json'), JSON.stringify([{ path: 'x' }, { path: '/y', scopes: 'admin' }]));
    const problems = problemsOf({ ROUTES: join(dir, 'rules.json'), COOKIE_DOMAIN: 'evil.test' });
    assert.ok(problems.some((p) => p.startsWith('ROUTES[0].path')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('ROUTES[1].scopes')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('COOKIE_DOMAIN')), 'every problem at once');
  });

  it('ALLOWED_REDIRECT_HOSTS defaults to BASE_URL\'s host and takes host or host:port entries only', () => {
    assert.deepEqual(loadConfig({ HOST: '127.0.0.1', PORT: '5001' }).allowedRedirectHosts, ['127.0.0.1:5001']);
    assert.deepEqual(loadConfig({ ALLOWED_REDIRECT_HOSTS: 'App.Example.com, api.example.com:8443' }).allowedRedirectHosts, ['app.example.com', 'api.example.com:8443']);
    for (const bad of ['https://app.example.com', '*.example.com', 'app.example.com/x', 'app.example.com:99999']) {
      assert.match(problemsOf({ ALLOWED_REDIRECT_HOSTS: bad }).join('\n'), /^ALLOWED_REDIRECT_HOSTS: /m, bad);
    }
  });

  it('COOKIE_DOMAIN must be BASE_URL\'s host or a parent of it', () => {
    assert.equal(loadConfig({ BASE_URL: 'http://app.example.localhost:5000/keygate', COOKIE_DOMAIN: '.Example.localhost' }).cookieDomain, 'example.localhost');
    for (const bad of ['other.localhost', 'ample.localhost', 'localhost', '127.0.0.1', 'a..b']) {
      assert.match(problemsOf({ BASE_URL: 'http://app.example.localhost:5000', COOKIE_DOMAIN: bad }).join('\n'), /^COOKIE_DOMAIN: /m, bad);
    }
  });

  it('with COOKIE_DOMAIN the session cookie has Domain= and __Secure- instead of __Host-; Path=/ always', async () => {
    const app = Fastify();
    await app.register(cookie, { secret: ['x'.repeat(32)] });
    const shared = new Cookies({ secure: true, cookieDomain: 'example.com' });
    const hostOnly = new Cookies({ secure: true });
    app.get('/shared', (_request, reply) => { shared.setSession(reply, 'i'.repeat(43), Date.now() + 60_000, Date.now()); reply.send(); });
    app.get('/host', (_request, reply) => { hostOnly.setSession(reply, 'i'.repeat(43), Date.now() + 60_000, Date.now()); reply.send(); });
    const a = String((await app.inject('/shared')).headers['set-cookie']);
    assert.match(a, /^__Secure-keygate_session=/);
    assert.match(a, /Domain=example\.com/);
    assert.match(a, /Path=\//);
    const b = String((await app.inject('/host')).headers['set-cookie']);
    assert.match(b, /^__Host-keygate_session=/);
    assert.doesNotMatch(b, /Domain=/);
    await app.close();
  });
});

describe('BASE_URL with a path: every route under it', () => {
  let kg: RunningKeygate;
  let base: URL;
  before(async () => {
    const port = await freePort();
    base = new URL(`http://127.0.0.1:${port}/keygate`);
    kg = await startKeygate(loadConfig({ HOST: '127.0.0.1', PORT: String(port), BASE_URL: base.href, LOG_LEVEL: 'silent' }), { logger: false });
  });
  after(async () => kg?.close());

  it('logs in under the path, links and redirects carry it, cookies keep Path=/, /auth and the JWKS live there', async () => {
    assert.equal((await fetch(new URL('/login', base))).status, 404, 'nothing at the root');
    const home = await fetch(new URL('/keygate/', base));
    const html = await home.text();
    assert.match(html, /href="\/keygate\/login"/);
    assert.match(html, /href="\/keygate\/static\/keygate\.css"/);
    assert.doesNotMatch(html, /(?:href|src|action)="\/(?!keygate\/)/, 'every root-relative link is under the path');
    assert.equal((await fetch(new URL('/keygate/static/keygate.css', base))).status, 200);

    const agent = new Agent();
    const { response, url, html: key } = await throughProvider(agent, new URL('/keygate/login', base), 'alice@example.com', 'alice');
    assert.equal(response.status, 200);
    assert.equal(url.pathname, '/keygate/key');
    const setCookie = agent.hops.find((hop) => new URL(hop.url).pathname === '/keygate/callback');
    assert.ok(setCookie, 'the callback is under the path');
    const token = decode(/<textarea[^>]*id="token"[^>]*>([^<]*)<\/textarea>/.exec(key)![1]!).trim();
    assert.match(key, /action="\/keygate\/logout"/);

    const cookieHeader = [...agent.jar.get(base.host)!].map(([n, v]) => `${n}=${v}`).join('; ');
    const auth = await fetch(new URL('/keygate/auth', base), {
      headers: { cookie: cookieHeader, 'x-forwarded-uri': '/orders', 'x-forwarded-host': base.host },
    });
    assert.equal(auth.status, 200);
    const jwks = (await fetch(new URL('/keygate/.well-known/jwks.json', base)).then((r) => r.json())) as jose.JSONWebKeySet;
    const { payload } = await jose.jwtVerify(auth.headers.get('x-keygate-assertion')!, jose.createLocalJWKSet(jwks), { issuer: base.href, audience: base.origin });
    assert.equal(payload.email, 'alice@example.com');
    // Envoy's path_prefix carries the path too: /keygate/auth/<original path>, decided on that original path.
    const envoy = await fetch(new URL('/keygate/auth/orders?id=1', base), { headers: { authorization: `Bearer ${token}` } });
    assert.equal(envoy.status, 200);
    assert.equal(envoy.headers.get('x-auth-request-email'), 'alice@example.com');
    assert.equal((await fetch(new URL('/keygate/auth/orders/..%2F..%2Fx', base))).status, 400);
    assert.equal((await fetch(new URL('/keygate/protected', base), { headers: { authorization: `Bearer ${token}` } })).status, 200);

    const nav = await fetch(new URL('/keygate/auth?redirect=1', base), {
      headers: { accept: 'text/html', 'x-forwarded-uri': '/orders?id=1', 'x-forwarded-host': base.host },
      redirect: 'manual',
    });
    assert.equal(nav.status, 302);
    assert.equal(nav.headers.get('location'), `${base.href}/login?returnTo=${encodeURIComponent(`${base.origin}/orders?id=1`)}`);

    const signedOut = await fetch(new URL('/keygate/key', base), { redirect: 'manual' });
    assert.equal(signedOut.headers.get('location'), '/keygate/');
  });

  it('the session cookie is set with Path=/, so the application\'s own pages on the host carry it', async () => {
    const lines: string[] = [];
    class Recording extends Agent {
      override async request(input: string | URL, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
        const response = await super.request(input, init);
        lines.push(...response.headers.getSetCookie());
        return response;
      }
    }
    await throughProvider(new Recording(), new URL('/keygate/login', base), 'bob@example.com', 'bob');
    const session = lines.find((line) => line.startsWith('keygate_session='));
    assert.ok(session, lines.join('\n'));
    assert.match(session, /; Path=\/(;|$)/);
  });
});
