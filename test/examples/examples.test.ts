/**
 * The examples, run as users run them (a child process: `node --import tsx examples/<name>.ts`, which is what
 * `npm run example:<name>` does), called with a token from a real dev-provider login, then logged out through Keygate.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describe, it, type TestContext } from 'node:test';
import { Agent } from '../helpers/agent.js';
import { loginAs, startDevKeygate } from '../helpers/keygate.js';
import { freePort } from '../helpers/net.js';
import { TestRedis } from '../helpers/redis.js';

const EXAMPLES = ['fastify-api', 'express-api'];

/** Starts an example and resolves with its API URL once it prints its start line; stopped by PID after the test. */
async function startExample(t: TestContext, name: string, env: Record<string, string>): Promise<{ api: string; child: ChildProcess }> {
  const apiPort = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${name}.ts`], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'silent', API_HOST: '127.0.0.1', API_PORT: String(apiPort), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s:\n${output}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('example API')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${output}`));
    });
  });
  return { api: `http://127.0.0.1:${apiPort}`, child };
}

async function get(url: string, token?: string) {
  const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: response.status, challenge: response.headers.get('www-authenticate'), body: (await response.json()) as Record<string, unknown> };
}

const logoutBy = (agent: Agent, base: URL) =>
  agent.request(new URL('/logout', base), { method: 'POST', headers: { 'sec-fetch-site': 'same-origin', accept: 'application/json' } });

describe('examples: a protected API on each adapter, run with one command', () => {
  for (const name of EXAMPLES) {
    it(`${name} with KEYGATE_EMBED=true: token works, policies answer, logout through Keygate gives 401 at once`, async (t) => {
      const port = await freePort();
      const { api } = await startExample(t, name, { KEYGATE_EMBED: 'true', HOST: '127.0.0.1', PORT: String(port) });
      const base = new URL(`http://127.0.0.1:${port}`);

      const alice = new Agent();
      const { token } = await loginAs(alice, base, 'alice@example.com', 'alice');
      assert.deepEqual((await get(`${api}/api/me`, token)).body.email, 'alice@example.com');
      assert.deepEqual(await get(`${api}/api/admin`, token), { status: 200, challenge: null, body: { admin: 'alice@example.com' } });
      const scoped = await get(`${api}/api/messages`, token);
      assert.equal(scoped.status, 403);
      assert.equal(scoped.body.error, 'insufficient_scope');
      assert.match(scoped.challenge!, /, scope="read:messages"$/);

      const { token: bobToken } = await loginAs(new Agent(), base, 'bob@example.com', 'bob');
      assert.equal((await get(`${api}/api/admin`, bobToken)).body.error, 'access_denied');
      assert.equal((await get(`${api}/api/me`, bobToken)).status, 200);

      assert.equal((await logoutBy(alice, base)).status, 200);
      const after = await get(`${api}/api/me`, token);
      assert.equal(after.status, 401);
      assert.equal(after.body.error, 'invalid_token');
      // Bob's login is untouched.
      assert.equal((await get(`${api}/api/me`, bobToken)).status, 200);
      assert.equal((await get(`${api}/api/me`)).status, 401);
    });

    it(`${name} as a separate process on Keygate's Redis (REDIS_URL, SECRET_KEY): logout through Keygate gives 401`, async (t) => {
      const redis = await TestRedis.start();
      t.after(() => redis.stop());
      const shared = { REDIS_URL: redis.url, SECRET_KEY: 'example-shared-secret-key-0123456789abcdef' };
      const kg = await startDevKeygate(shared);
      t.after(() => kg.close());
      const { api } = await startExample(t, name, { ...shared, KEYGATE_ISSUER: kg.config.issuerUrl, KEYGATE_AUDIENCE: kg.config.clientId });
      const agent = new Agent();
      const { token } = await loginAs(agent, kg.base, 'alice@example.com', 'alice');
      assert.equal((await get(`${api}/api/me`, token)).body.email, 'alice@example.com');
      assert.equal((await logoutBy(agent, kg.base)).status, 200);
      // The example's store learns of the logout from Redis (its local cache is invalidated by pub/sub): bounded wait.
      const deadline = Date.now() + 5_000;
      let after = await get(`${api}/api/me`, token);
      while (after.status !== 401 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        after = await get(`${api}/api/me`, token);
      }
      assert.equal(after.status, 401);
      assert.equal(after.body.error, 'invalid_token');
    });

    it(`${name} against a separate Keygate (KEYGATE_ISSUER): verifies its tokens; its own store does not see the logout`, async (t) => {
      const kg = await startDevKeygate();
      t.after(() => kg.close());
      const { api } = await startExample(t, name, { KEYGATE_ISSUER: kg.config.issuerUrl, KEYGATE_AUDIENCE: kg.config.clientId });
      const agent = new Agent();
      const { token } = await loginAs(agent, kg.base, 'alice@example.com', 'alice');
      assert.equal((await get(`${api}/api/me`, token)).status, 200);
      const forged = `${token.slice(0, -4)}AAAA`;
      assert.equal((await get(`${api}/api/me`, forged)).body.error, 'invalid_token');
      assert.equal((await logoutBy(agent, kg.base)).status, 200);
      assert.equal((await fetch(new URL('/protected', kg.base), { headers: { authorization: `Bearer ${token}` } })).status, 401);
      // Two processes, two memory stores: this is why the README says to share the store (same process or Redis).
      assert.equal((await get(`${api}/api/me`, token)).status, 200);
    });
  }
});
