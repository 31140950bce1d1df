/**
 * `keygate token` against a real running Keygate: the command (a child process, as a user runs it) logs in through the
 * development provider's forms and prints only the token, which works on /protected until `POST /logout` with it.
 * It refuses, with exit code 2 and a message naming the cause, a Keygate that is not in development mode (here one
 * whose provider is this test's own oidc-provider), a URL where nothing listens, and wrong credentials.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { loadConfig } from '../../src/config/index.js';
import { startDevIdp, type RunningDevIdp } from '../../src/dev-idp/index.js';
import { startKeygate, type RunningKeygate } from '../../src/server.js';
import { protectedStatus, startDevKeygate, type TestKeygate } from '../helpers/keygate.js';
import { freePort } from '../helpers/net.js';

const CLI = fileURLToPath(new URL('../../src/cli/keygate.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

function keygateToken(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', TSX, CLI, 'token', ...args], { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 60_000 },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }));
  });
}

describe('keygate token against Keygate in development mode', () => {
  let kg: TestKeygate;
  before(async () => {
    kg = await startDevKeygate({ AUDIENCE: 'https://api.example.com', SCOPE: 'openid email read:messages' });
  });
  after(() => kg?.close());

  it('prints only the token on stdout; it works on /protected; POST /logout with it revokes it', async () => {
    const r = await keygateToken(['--user', 'alice@example.com', '--scope', 'read:messages', '--base-url', kg.base.href]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/, 'the token alone, so TOKEN=$(keygate token …) works');
    const token = r.stdout.trim();
    assert.match(r.stderr, /^keygate token: logged in as alice@example\.com; access token valid until /);
    assert.equal(jose.decodeJwt(token)['scope'], 'openid email read:messages');

    assert.equal(await protectedStatus(kg.base, token), 200);
    const logout = await fetch(new URL('/logout', kg.base), { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    assert.equal(logout.status, 200, await logout.text());
    assert.equal(await protectedStatus(kg.base, token), 401);
  });

  it('refuses wrong credentials with exit code 2', async () => {
    const r = await keygateToken(['--user', 'alice@example.com', '--password', 'wrong', '--base-url', kg.base.href]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'keygate token: wrong e-mail or password for alice@example.com (see DEV_USERS, or the users on Keygate\'s login page)\n');
  });

  it('refuses a scope the token does not carry, naming SCOPE', async () => {
    const r = await keygateToken(['--user', 'bob@example.com', '--scope', 'read:messages,admin', '--base-url', kg.base.href]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'keygate token: the token lacks admin; start Keygate with SCOPE including it\n');
  });
});

describe('keygate token refuses', () => {
  let idp: RunningDevIdp;
  let kg: RunningKeygate;
  let base: string;
  before(async () => {
    // A Keygate whose provider is a real OpenID Provider elsewhere (this test's own): not development mode.
    const port = await freePort();
    base = `http://127.0.0.1:${port}/`;
    idp = await startDevIdp({
      clients: [{ clientId: 'app', clientSecret: 'app-secret-0123456789abcdef0123456789', redirectUris: [`${base}callback`], postLogoutRedirectUris: [base] }],
      users: [{ email: 'alice@example.com', password: 'alice', name: 'Alice' }],
      cookieKeys: ['token-test-idp-cookie-key-0123456789'],
    });
    kg = await startKeygate(loadConfig({
      HOST: '127.0.0.1', PORT: String(port), ISSUER_URL: idp.issuer, CLIENT_ID: 'app',
      CLIENT_SECRET: 'app-secret-0123456789abcdef0123456789', SECRET_KEY: 'token-test-secret-key-0123456789abcdef', LOG_LEVEL: 'silent',
    }), { logger: false });
  });
  after(async () => {
    await kg?.close();
    await idp?.close();
  });

  it('a Keygate that is not in development mode, with exit code 2', async () => {
    const r = await keygateToken(['--user', 'alice@example.com', '--base-url', base]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `keygate token: the server at ${base} is not Keygate in development mode (no development provider at ${base}idp/.well-known/openid-configuration: HTTP 404). ` +
        'keygate token logs in only through the development provider; with a real provider, log in with a browser and copy the token from the key page.\n',
    );
  });

  it('a URL where nothing listens, naming it, with exit code 2', async () => {
    const port = await freePort();
    const r = await keygateToken(['--user', 'alice@example.com', '--base-url', `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `keygate token: cannot reach Keygate at http://127.0.0.1:${port}/ (connect ECONNREFUSED 127.0.0.1:${port}). Is it running? Start it with npm start, or pass --base-url.\n`,
    );
  });

  it('a missing --user, with the usage and exit code 2', async () => {
    const r = await keygateToken([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^keygate token: --user <email> is required\nUsage: keygate token --user <email>/);
  });
});
