/**
 * The development provider issues what real ones do: with AUDIENCE, JWT access tokens carrying the scopes asked in
 * SCOPE and the user's Auth0-style `permissions` (DEV_USERS); without it, the ID token as before. A route policy of
 * the Fastify plugin passes and fails against real tokens from a real login; refused scopes are warned about.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import * as jose from 'jose';
import { keygatePlugin } from '../../src/adapters/fastify.js';
import { Agent } from '../helpers/agent.js';
import { loginAs, startDevKeygate, type TestKeygate } from '../helpers/keygate.js';

const AUDIENCE = 'https://api.example.com';
const DEV_USERS = JSON.stringify([
  { email: 'alice@example.com', password: 'alice', name: 'Alice', permissions: ['read:messages', 'write:messages'] },
  { email: 'carol@example.com', password: 'carol-pw', permissions: ['read:messages'] },
]);

/** The user's own API: the Fastify plugin on Keygate's own core (same issuer, audience and store). */
async function userApi(kg: TestKeygate): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(keygatePlugin, { keygate: kg.keygate });
  const me = async (request: { auth: unknown }) => request.auth;
  app.get('/read', { preHandler: app.keygate.protect({ scopes: ['read:messages'] }) }, me);
  app.get('/write', { preHandler: app.keygate.protect({ scopes: ['read:messages'], permissions: ['write:messages'] }) }, me);
  app.get('/admin', { preHandler: app.keygate.protect({ scopes: ['admin'] }) }, me);
  await app.ready();
  return app;
}

const call = async (app: FastifyInstance, url: string, token: string) => {
  const response = await app.inject({ url, headers: { authorization: `Bearer ${token}` } });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
};

/** A logger stream that keeps the JSON lines Keygate writes. */
function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _encoding, done) { chunks.push(String(chunk)); done(); } });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('development provider with AUDIENCE, SCOPE and DEV_USERS: scoped access tokens with permissions', () => {
  let kg: TestKeygate;
  let api: FastifyInstance;
  before(async () => {
    kg = await startDevKeygate({ AUDIENCE, SCOPE: 'openid email read:messages', DEV_USERS });
    api = await userApi(kg);
  });
  after(async () => {
    await api?.close();
    await kg?.close();
  });

  it('issues a JWT access token for the audience with the asked scopes and the user\'s permissions', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    assert.equal(jose.decodeProtectedHeader(token).typ, 'at+jwt');
    const claims = jose.decodeJwt(token);
    assert.equal(claims.aud, AUDIENCE);
    assert.equal(claims.iss, kg.config.issuerUrl);
    assert.deepEqual(String(claims['scope']).split(' ').sort(), ['email', 'openid', 'read:messages']);
    assert.deepEqual(claims['permissions'], ['read:messages', 'write:messages']);
    assert.equal(claims['email'], 'alice@example.com');
  });

  it('a scope policy and a permission policy pass against a development token; a missing one is refused by name', async () => {
    const { token: alice } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    const read = await call(api, '/read', alice);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.deepEqual(read.body['permissions'], ['read:messages', 'write:messages']);
    assert.equal((await call(api, '/write', alice)).status, 200);
    assert.deepEqual(await call(api, '/admin', alice), {
      status: 403,
      body: { error: 'insufficient_scope', error_description: 'The token lacks the scope this resource requires: admin.' },
    });

    const { token: carol } = await loginAs(new Agent(), kg.base, 'carol@example.com', 'carol-pw');
    assert.deepEqual(jose.decodeJwt(carol)['permissions'], ['read:messages']);
    assert.equal((await call(api, '/read', carol)).status, 200);
    assert.deepEqual(await call(api, '/write', carol), {
      status: 403,
      body: { error: 'insufficient_scope', error_description: 'The token lacks the permissions this resource requires: write:messages.' },
    });
  });
});

describe('development provider without AUDIENCE: the API token stays the ID token', () => {
  let kg: TestKeygate;
  let api: FastifyInstance;
  const log = capture();
  before(async () => {
    kg = await startDevKeygate({ SCOPE: 'openid email read:messages' }, { logger: { level: 'warn', stream: log.stream } });
    api = await userApi(kg);
  });
  after(async () => {
    await api?.close();
    await kg?.close();
  });

  it('warns at start-up about each scope it will not grant, naming SCOPE and the scope', () => {
    const warnings = log.lines().filter((l) => l['level'] === 40).map((l) => l['msg']);
    assert.deepEqual(warnings, [
      'SCOPE: the development provider will not grant "read:messages" (API scopes are granted only in access tokens; set AUDIENCE); tokens will not carry it',
    ]);
  });

  it('issues the ID token, without scope or permissions; a scope policy says why it fails', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    const claims = jose.decodeJwt(token);
    assert.equal(claims.aud, kg.config.clientId, 'the ID token, for Keygate\'s client');
    assert.equal(claims['scope'], undefined);
    assert.equal(claims['permissions'], undefined);
    assert.deepEqual(await call(api, '/read', token), {
      status: 403,
      body: {
        error: 'insufficient_scope',
        error_description: 'The token carries no scopes at all (no "scope" claim), so it cannot grant read:messages. ID tokens carry none: set AUDIENCE so that the API token is an access token for your API.',
      },
    });
  });

  it('the default demo users still log in (npm start with no configuration)', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'bob@example.com', 'bob');
    assert.equal(jose.decodeJwt(token)['email'], 'bob@example.com');
  });
});
