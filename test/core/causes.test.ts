/**
 * Errors that name the cause, each on its exact message: REDIS_URL without SECRET_KEY; a provider that cannot be
 * reached (a warning at start-up, a failing --check-config, the 502 page of /login, each naming the discovery URL and
 * the cause); a login stored under another SECRET_KEY (a key mismatch, in the answer and in the log).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { startKeygate, type RunningKeygate } from '../../src/server.js';
import { Agent, decode } from '../helpers/agent.js';
import { loginAs } from '../helpers/keygate.js';
import { freePort } from '../helpers/net.js';
import { TestRedis } from '../helpers/redis.js';
import { CLIENT_ID, CLIENT_SECRET, SECRET_KEY, sharedSetup, type SharedSetup } from '../helpers/shared-redis.js';

/** A logger stream that keeps the JSON lines Keygate writes. */
function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _encoding, done) { chunks.push(String(chunk)); done(); } });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
}

async function eventually<T>(read: () => T | undefined, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail('not seen in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('REDIS_URL without SECRET_KEY', () => {
  for (const [name, value] of [['REDIS_URL', 'redis://127.0.0.1:6379'], ['REDIS_CLUSTER_NODES', '127.0.0.1:7000']] as const) {
    it(`is refused naming SECRET_KEY and ${name}`, () => {
      assert.throws(() => loadConfig({ [name]: value }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          `SECRET_KEY: required with ${name} (every instance sharing the store must seal sessions with the same key; without SECRET_KEY development mode picks a random one per process)`,
        ]);
        return true;
      });
    });
  }
});

describe('a provider that cannot be reached', () => {
  let kg: RunningKeygate;
  let issuer: string;
  const log = capture();
  const sentence = (port: number) =>
    `The provider's discovery at http://127.0.0.1:${port}/.well-known/openid-configuration`;
  let port: number;
  const env = () => ({
    ISSUER_URL: issuer, CLIENT_ID: 'app', CLIENT_SECRET: 'app-secret-0123456789abcdef0123456789', SECRET_KEY: 'causes-secret-key-0123456789abcdefghij',
  });
  before(async () => {
    port = await freePort(); // nothing listens there
    issuer = `http://127.0.0.1:${port}`;
    const listen = await freePort();
    kg = await startKeygate(loadConfig({ ...env(), HOST: '127.0.0.1', PORT: String(listen) }), { logger: { level: 'warn', stream: log.stream } });
  });
  after(() => kg?.close());

  it('start-up continues, with a warning naming the discovery URL and the cause', async () => {
    const warning = await eventually(() => log.lines().find((l) => l['level'] === 40));
    assert.equal(warning['msg'], `${sentence(port)} failed: connect ECONNREFUSED 127.0.0.1:${port}. Keygate keeps running; logins fail until the provider answers.`);
    assert.equal(warning['url'], `http://127.0.0.1:${port}/.well-known/openid-configuration`);
    assert.equal((await fetch(`${kg.url}/healthz`)).status, 200);
  });

  it('the 502 page of /login names the discovery URL and the cause', async () => {
    const response = await fetch(`${kg.url}/login`, { redirect: 'manual' });
    assert.equal(response.status, 502);
    const html = decode(await response.text());
    assert.ok(html.includes(`${sentence(port)} could not be reached: connect ECONNREFUSED 127.0.0.1:${port}.`), html);
  });

  it('--check-config fails naming the discovery URL and the cause, exit code 1', async () => {
    const cli = fileURLToPath(new URL('../../src/cli/keygate.ts', import.meta.url));
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', import.meta.resolve('tsx'), cli, '--check-config'], { env: { PATH: process.env.PATH ?? '', ...env() }, encoding: 'utf8', timeout: 30_000 },
        (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }));
    });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `keygate: --check-config: ${sentence(port)} failed: connect ECONNREFUSED 127.0.0.1:${port}.\n`);
  });
});

describe('a login stored under another SECRET_KEY', () => {
  let redis: TestRedis;
  let setup: SharedSetup;
  const running: RunningKeygate[] = [];
  before(async () => {
    redis = await TestRedis.start();
    setup = await sharedSetup(2);
  });
  after(async () => {
    for (const kg of running) await kg.close();
    await setup?.idp.close();
    await redis?.stop();
  });

  it('is answered and logged as a key mismatch, not as an ended login', async () => {
    const first = await setup.startInstance(0, redis.url);
    running.push(first);
    const log = capture();
    const second = await startKeygate(loadConfig({
      HOST: '127.0.0.1', PORT: String(setup.ports[1]), ISSUER_URL: setup.idp.issuer, CLIENT_ID, CLIENT_SECRET, REDIS_URL: redis.url,
      SECRET_KEY: `${SECRET_KEY}-but-another-one`,
    }), { logger: { level: 'info', stream: log.stream } });
    running.push(second);

    const { token } = await loginAs(new Agent(), first.base, 'alice@example.com', 'alice');
    assert.equal((await fetch(new URL('/protected', first.base), { headers: { authorization: `Bearer ${token}` } })).status, 200);
    const response = await fetch(`${second.url}/protected`, { headers: { authorization: `Bearer ${token}` } });
    const description = 'The login that issued this token was stored under a different SECRET_KEY than this instance has (key mismatch): give every instance that shares the session store the same SECRET_KEY.';
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), { error: 'invalid_token', error_description: description });
    const logged = await eventually(() => log.lines().find((l) => l['code'] === 'invalid_token'));
    assert.equal(logged['msg'], description);
  });
});
