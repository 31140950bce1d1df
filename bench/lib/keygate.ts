/**
 * Keygate as users run it: what `npm start` runs, `node dist/cli/keygate.js` of a checkout (built here first, so
 * dist matches src), with its own logger and every hook, configured only through environment variables, in provider
 * mode against the bench's fake issuer on loopback. Nothing is assembled in the bench.
 *
 * REQUIRE_SESSION=true needs the session of each token in the store; the CLI's memory store can only be filled by
 * logging in, so those rows use the Redis store (REDIS_URL), seeded beforehand by `seedRedis` through the same
 * checkout's own store code.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AUDIENCE, CLIENT_ID, sessionOf, type Fixture } from './fixtures.js';
import { freePort } from './net.js';
import { spawnServer, type RunningServer } from './proc.js';

export interface KeygateVariant {
  /** Session store: memory (the default) or the bench's redis-server. */
  store: 'memory' | 'redis';
  requireSession: boolean;
  /** TOKEN_CACHE_SIZE; unset keeps Keygate's default. */
  tokenCacheSize?: number;
}

export interface Checkout {
  /** Short name, used in row ids and as the Redis key prefix. */
  label: string;
  /** Root of the checkout (its package.json, src and dist). */
  root: string;
}

/** An empty working directory: a `.env` in a checkout must not configure the benchmarked server. */
const CWD = mkdtempSync(join(tmpdir(), 'keygate-bench-cwd-'));

/** `npm run build` in the checkout (tsc: quick when nothing changed); throws when it fails. */
export function buildCheckout(checkout: Checkout): void {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: checkout.root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed in ${checkout.root}: ${build.stdout}${build.stderr}`);
  if (!existsSync(cliOf(checkout))) throw new Error(`${cliOf(checkout)} missing after the build`);
}

export function cliOf(checkout: Checkout): string {
  return join(checkout.root, 'dist/cli/keygate.js');
}

/** The environment of one Keygate row (PORT aside): provider mode, the fake issuer, nothing inherited but PATH. */
export function keygateEnv(fixture: Fixture, checkout: Checkout, variant: KeygateVariant, redisUrl: string | undefined): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ISSUER_URL: fixture.issuer,
    CLIENT_ID,
    CLIENT_SECRET: 'bench-client-secret-bench-client-secret',
    SECRET_KEY: 'bench-secret-key-bench-secret-key-0123456789',
    AUDIENCE,
    REQUIRE_SESSION: String(variant.requireSession),
    HOST: '127.0.0.1',
  };
  if (variant.tokenCacheSize !== undefined) env.TOKEN_CACHE_SIZE = String(variant.tokenCacheSize);
  if (variant.store === 'redis') {
    if (!redisUrl) throw new Error('a Redis row without the bench\'s redis-server');
    env.REDIS_URL = redisUrl;
    env.REDIS_PREFIX = `bench-${checkout.label.replace(/[^A-Za-z0-9_.-]/g, '_')}:`;
  }
  return env;
}

/** Starts the checkout's built CLI (pinned to core 0) and waits for its "listening on" line. */
export async function startKeygateCli(checkout: Checkout, env: Record<string, string>, nodeArgs: string[] = []): Promise<RunningServer> {
  const port = await freePort();
  return spawnServer(`keygate@${checkout.label}`, [...nodeArgs, cliOf(checkout)], {
    env: { ...env, PORT: String(port) },
    cwd: CWD,
    ready: /listening on http:\/\/127\.0\.0\.1:(\d+)/,
  });
}

interface SeedingStore {
  create(session: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/**
 * Puts one live session per fixture token into Redis under the checkout's prefix, with the checkout's own built
 * store (`createStore` of its `dist/server.js`, configured from the same environment as the CLI), so the format is
 * the one that checkout reads.
 */
export async function seedRedis(checkout: Checkout, fixture: Fixture, env: Record<string, string>): Promise<void> {
  const server = (await import(pathToFileURL(join(checkout.root, 'dist/server.js')).href)) as {
    loadConfig(env: Record<string, string>): unknown;
    createStore(config: unknown): Promise<SeedingStore>;
  };
  const { tokenKey } = (await import(pathToFileURL(join(checkout.root, 'dist/token/verifier.js')).href)) as { tokenKey(token: string): string };
  const store = await server.createStore(server.loadConfig(env));
  const now = Date.now();
  try {
    const batch = 200;
    for (let start = 0; start < fixture.tokens.length; start += batch) {
      await Promise.all(
        fixture.tokens.slice(start, start + batch).map((token, j) => {
          const i = start + j;
          const s = sessionOf(i);
          const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
          return store.create({
            id: `bench-session-${i}`,
            sub: s.sub,
            email: s.email,
            emailVerified: s.email_verified,
            name: s.name,
            apiToken: token,
            tokenKind: 'access_token',
            tokenKey: tokenKey(token),
            createdAt: now,
            expiresAt: exp * 1000,
          });
        }),
      );
    }
  } finally {
    await store.close();
  }
}
