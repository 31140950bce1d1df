/**
 * Several Keygate instances sharing one real redis-server and one real OpenID Provider (the dev IdP served alone),
 * as behind a load balancer: same SECRET_KEY, same client, each on its own loopback port with its own RedisStore.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/index.js';
import { startDevIdp, type RunningDevIdp } from '../../src/dev-idp/index.js';
import { startKeygate, type RunningKeygate } from '../../src/server.js';
import type { SessionStore } from '../../src/session/store.js';
import { freePort } from './net.js';
import { TestRedis } from './redis.js';

export const CLIENT_ID = 'keygate-shared';
export const CLIENT_SECRET = 'test-fixture-client-secret-not-a-real-credential';
export const SECRET_KEY = 'test-fixture-secret-key-not-a-real-credential';
export const USERS = [
  { email: 'alice@example.com', password: 'alice', name: 'Alice Example' },
  { email: 'bob@example.com', password: 'bob', name: 'Bob Example' },
];

export interface Instance extends RunningKeygate {
  base: URL;
  port: number;
}

export interface SharedSetup {
  idp: RunningDevIdp;
  ports: number[];
  /** Starts (or restarts) a Keygate on `ports[index]` against `redisUrl`, in this process (on `store` when given). */
  startInstance(index: number, redisUrl: string, env?: Record<string, string>, store?: SessionStore): Promise<Instance>;
  /** Starts a Keygate on `ports[index]` as its own process (the `keygate` command); stop it with `stop()`. */
  spawnInstance(index: number, redisUrl: string): Promise<{ base: URL; pid: number; stop(): Promise<void> }>;
}

const CLI = fileURLToPath(new URL('../../src/cli/keygate.ts', import.meta.url));

/** The provider, with redirect URIs registered for `count` Keygate ports chosen now. */
export async function sharedSetup(count: number): Promise<SharedSetup> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const idp = await startDevIdp({
    clients: [{
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      redirectUris: ports.map((p) => `http://127.0.0.1:${p}/callback`),
      postLogoutRedirectUris: ports.map((p) => `http://127.0.0.1:${p}/`),
      // The provider's back-channel logouts reach the first instance only, as behind a load balancer.
      backchannelLogoutUri: `http://127.0.0.1:${ports[0]}/backchannel-logout`,
    }],
    users: USERS,
    cookieKeys: ['shared-idp-cookie-key-0123456789'],
  });
  const envFor = (port: number, redisUrl: string): Record<string, string> => ({
    HOST: '127.0.0.1',
    PORT: String(port),
    ISSUER_URL: idp.issuer,
    CLIENT_ID,
    CLIENT_SECRET,
    SECRET_KEY,
    REDIS_URL: redisUrl,
    LOG_LEVEL: 'silent',
  });
  return {
    idp,
    ports,
    async startInstance(index, redisUrl, env = {}, store) {
      const port = ports[index]!;
      const config = loadConfig({ ...envFor(port, redisUrl), ...env });
      const running = await startKeygate(config, { logger: false, ...(store ? { store } : {}) });
      return { ...running, base: new URL(`http://127.0.0.1:${port}`), port };
    },
    async spawnInstance(index, redisUrl) {
      const port = ports[index]!;
      const base = new URL(`http://127.0.0.1:${port}`);
      const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CLI], {
        env: { PATH: process.env.PATH ?? '', ...envFor(port, redisUrl) },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const stop = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      };
      const deadline = Date.now() + 30_000;
      for (;;) {
        const ready = await fetch(new URL('/readyz', base)).then((r) => r.status, () => 0);
        if (ready === 200) return { base, pid: child.pid!, stop };
        if (child.exitCode !== null || Date.now() > deadline) {
          await stop();
          throw new Error(`keygate on port ${port} did not become ready`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

/** `GET /protected` with the token: status, RFC 6750 error code, and how long it took. */
export async function callProtected(base: URL, token: string): Promise<{ status: number; error?: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(new URL('/protected', base), { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json().catch(() => ({}))) as { error?: string };
  return { status: response.status, ...(body.error ? { error: body.error } : {}), ms: performance.now() - started };
}

/** `POST /logout` as an API client with the bearer token. */
export async function logoutWithToken(base: URL, token: string): Promise<Response> {
  const response = await fetch(new URL('/logout', base), { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  await response.arrayBuffer();
  return response;
}

/** Polls `base` until it answers `status` for the token (at most `ms`); returns the last answer. */
export async function until(base: URL, token: string, status: number, ms = 3_000): Promise<Awaited<ReturnType<typeof callProtected>>> {
  const deadline = Date.now() + ms;
  let answer = await callProtected(base, token);
  while (answer.status !== status && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    answer = await callProtected(base, token);
  }
  return answer;
}

/** Two instances, A and B, on one fresh redis-server and one provider, both started with the same extra `env`. */
export interface InstancePair {
  redis: TestRedis;
  idp: RunningDevIdp;
  a: Instance;
  b: Instance;
  /** Stops both instances, the provider and the redis-server. */
  close(): Promise<void>;
}

export async function startPair(env: Record<string, string> = {}): Promise<InstancePair> {
  const redis = await TestRedis.start();
  const started: Array<{ close(): Promise<void> }> = [];
  const close = async () => {
    for (const part of started.reverse()) await part.close();
    await redis.stop();
  };
  try {
    const setup = await sharedSetup(2);
    started.push(setup.idp);
    const a = await setup.startInstance(0, redis.url, env);
    started.push(a);
    const b = await setup.startInstance(1, redis.url, env);
    started.push(b);
    return { redis, idp: setup.idp, a, b, close };
  } catch (error) {
    await close();
    throw error;
  }
}
