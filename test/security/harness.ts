import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify';
import { keygatePlugin } from '../../src/adapters/fastify.js';
import { keygateOptionsFrom } from '../../src/config/options.js';
import { loadConfig, type KeygateConfig } from '../../src/config/index.js';
import { buildApp, createServerCore, type AppDeps } from '../../src/http/app.js';
import type { Keygate } from '../../src/keygate/create.js';
import { MemoryStore } from '../../src/session/memory.js';
import { decode } from '../helpers/agent.js';
import { CLIENT_ID, CLIENT_SECRET, type HostileOp } from './hostile-op.js';

export const BASE = 'http://127.0.0.1:5080';

/** Keygate configured through its ordinary configuration (loadConfig env → buildApp) against a hostile provider. */
export interface KeygateUnderTest {
  app: FastifyInstance;
  store: MemoryStore;
  keygate: Keygate;
  config: KeygateConfig;
  close(): Promise<void>;
}

/**
 * Which door a case goes through: Keygate's server (`buildApp`), or a user's own Fastify API with the library
 * (`createKeygate` through the plugin, configured with the same settings); both answer `GET /protected`.
 */
export type Door = 'server' | 'library';
export const DOORS: readonly Door[] = ['server', 'library'];

export async function keygateAgainst(op: HostileOp, env: Record<string, string> = {}, deps: Pick<AppDeps, 'fetch' | 'jwksCooldownMs'> = {}, now?: () => number, door: Door = 'server'): Promise<KeygateUnderTest> {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '5080',
    ISSUER_URL: op.issuer,
    CLIENT_ID,
    CLIENT_SECRET,
    SECRET_KEY: 's'.repeat(48),
    PROVIDER_TIMEOUT_MS: '1000',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const store = new MemoryStore({ maxEntries: 10_000, sweepIntervalMs: 0 });
  // A fetch of its own gives each Keygate under test its own issuer client (discovery, key set, token cache), as
  // separate processes would have; Keygates of one process that share an issuer share them on purpose.
  const fetchOwn: typeof fetch = deps.fetch ?? ((input, init) => fetch(input, init));
  const core = { store, ...deps, fetch: fetchOwn, ...(now ? { now } : {}) };
  let app: FastifyInstance;
  let keygate: Keygate;
  if (door === 'server') {
    keygate = createServerCore(config, core);
    app = await buildApp(config, { store, keygate, logger: false, ...(now ? { now } : {}) });
  } else {
    app = await libraryApi(config, core);
    keygate = app.keygate.core;
  }
  await app.ready();
  return {
    app,
    store,
    keygate,
    config,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

export interface Bearer {
  status: number;
  error: string | undefined;
  challenge: string | undefined;
  body: Record<string, unknown>;
}

/** GET /protected with this Authorization value (or raw headers). */
export async function protectedCall(kg: KeygateUnderTest, authorization: string | undefined, extra: InjectOptions = {}): Promise<Bearer> {
  const response = await kg.app.inject({
    method: 'GET',
    url: '/protected',
    ...extra,
    headers: { ...(authorization !== undefined ? { authorization } : {}), ...(extra.headers ?? {}) },
  });
  let body: Record<string, unknown> = {};
  try {
    body = response.json();
  } catch {
    body = { raw: response.body };
  }
  const challenge = response.headers['www-authenticate'];
  return { status: response.statusCode, error: typeof body.error === 'string' ? body.error : undefined, challenge: typeof challenge === 'string' ? challenge : undefined, body };
}

/** The cookies a response sets, as name → value (cleared cookies map to ''). */
export function setCookies(response: LightMyRequestResponse): Map<string, string> {
  const out = new Map<string, string>();
  const raw = response.headers['set-cookie'];
  for (const line of raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) {
    const pair = line.split(';')[0]!;
    const eq = pair.indexOf('=');
    out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}

export function cookieHeader(cookies: Map<string, string>): string {
  return [...cookies].filter(([, v]) => v !== '').map(([n, v]) => `${n}=${v}`).join('; ');
}

export interface StartedLogin {
  /** The provider's authorization URL Keygate redirected to. */
  authorizeUrl: URL;
  state: string;
  nonce: string;
  /** Cookies Keygate set (the transaction cookie). */
  cookies: Map<string, string>;
}

export async function startLogin(kg: KeygateUnderTest, query = ''): Promise<StartedLogin> {
  const response = await kg.app.inject({ method: 'GET', url: `/login${query}` });
  if (response.statusCode !== 302) throw new Error(`/login answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
  const authorizeUrl = new URL(response.headers.location as string);
  return {
    authorizeUrl,
    state: authorizeUrl.searchParams.get('state')!,
    nonce: authorizeUrl.searchParams.get('nonce')!,
    cookies: setCookies(response),
  };
}

/** The provider's answer to the authorization request: the callback query it redirects the browser with. */
export async function authorizeAtOp(login: StartedLogin): Promise<URLSearchParams> {
  const response = await fetch(login.authorizeUrl, { redirect: 'manual' });
  await response.arrayBuffer();
  return new URL(response.headers.get('location')!).searchParams;
}

export interface CallbackResult {
  status: number;
  body: string;
  location: string | undefined;
  cookies: Map<string, string>;
  response: LightMyRequestResponse;
}

export async function callback(kg: KeygateUnderTest, query: URLSearchParams | string, cookies: Map<string, string> | string, headers: Record<string, string> = {}): Promise<CallbackResult> {
  const response = await kg.app.inject({
    method: 'GET',
    url: `/callback?${query.toString()}`,
    headers: { accept: 'text/html', cookie: typeof cookies === 'string' ? cookies : cookieHeader(cookies), ...headers },
  });
  const location = response.headers.location;
  return { status: response.statusCode, body: response.body, location: typeof location === 'string' ? location : undefined, cookies: setCookies(response), response };
}

/** A whole login against the hostile provider; returns the session cookie and the API token shown on the key page. */
export async function login(kg: KeygateUnderTest, query = ''): Promise<{ cookie: string; token: string; result: CallbackResult }> {
  const started = await startLogin(kg, query);
  const result = await callback(kg, await authorizeAtOp(started), started.cookies);
  if (result.status !== 302) throw new Error(`callback answered ${result.status}: ${result.body.slice(0, 500)}`);
  const cookie = cookieHeader(result.cookies);
  const key = await kg.app.inject({ method: 'GET', url: '/key', headers: { cookie } });
  const token = /<textarea[^>]*id="token"[^>]*>([^<]*)<\/textarea>/.exec(key.body)?.[1];
  if (!token) throw new Error(`no token on the key page: ${key.statusCode}`);
  return { cookie, token: decode(token).trim(), result };
}

/** A user's own API: Fastify, the Keygate plugin with plain options (the server's settings), `GET /protected`. */
async function libraryApi(config: KeygateConfig, deps: Pick<AppDeps, 'store' | 'fetch' | 'jwksCooldownMs' | 'now'>): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(keygatePlugin, { ...keygateOptionsFrom(config), ...deps });
  const policy = config.requiredScopes.length > 0 ? { scopes: config.requiredScopes } : {};
  app.get('/protected', { preHandler: app.keygate.protect(policy) }, async (request) => request.auth!.profile);
  return app;
}
