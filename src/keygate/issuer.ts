import * as client from 'openid-client';
import * as jose from 'jose';
import { UnavailableError } from '../errors.js';
import { createCachedVerifier } from '../token/cache.js';
import { createTokenVerifier, type TokenVerifier } from '../token/verifier.js';
import type { ResolvedKeygateOptions } from './options.js';
import { isLoopbackHost } from './validate.js';

/** What discovery yields: the provider's metadata (its exact `iss`) and its remote key set (cached, with cooldown). */
export interface Discovered {
  metadata: client.ServerMetadata;
  issuer: string;
  keys: jose.JWTVerifyGetKey;
}

/** The settings that make two issuer clients the same one. */
type IssuerSettings = Pick<ResolvedKeygateOptions, 'issuer' | 'timeoutMs' | 'jwksCooldownMs' | 'fetch'>;

/**
 * One provider as every door sees it: discovery runs once (retried after a failure, one attempt at a time), the
 * JWKS is fetched and cached once, and verifiers are built once per set of verification options, each with its
 * verified-token cache. Keygate's server, its login flow, the plugin and the middleware of one issuer share it.
 */
export class IssuerClient {
  #pending: Promise<Discovered> | undefined;
  #done: Discovered | undefined;
  readonly #verifiers = new Map<string, TokenVerifier>();
  /** Discovery documents fetched so far (for tests and metrics). */
  discoveries = 0;

  constructor(readonly settings: IssuerSettings) {}

  /** Whether plain http is allowed for this issuer (a loopback host only). */
  get insecure(): boolean {
    const url = new URL(this.settings.issuer);
    return url.protocol === 'http:' && isLoopbackHost(url.hostname);
  }

  /** The discovered provider; rejects with the raw cause (each door maps it: 503 on the API, 502/504 on pages). */
  discover(): Promise<Discovered> {
    if (this.#done) return Promise.resolve(this.#done);
    this.#pending ??= this.#discover().then(
      (done) => (this.#done = done),
      (error: unknown) => {
        this.#pending = undefined;
        throw error;
      },
    );
    return this.#pending;
  }

  async #discover(): Promise<Discovered> {
    this.discoveries++;
    const { issuer, timeoutMs, jwksCooldownMs, fetch: fetchImpl } = this.settings;
    const options: client.DiscoveryRequestOptions = { execute: this.insecure ? [client.allowInsecureRequests] : [], timeout: Math.ceil(timeoutMs / 1000) };
    if (fetchImpl) options[client.customFetch] = fetchImpl as client.CustomFetch;
    // Only the server metadata is kept; the relying party builds its own Configuration (with its client) from it.
    const configuration = await client.discovery(new URL(issuer), 'keygate', undefined, client.None(), options);
    const metadata = configuration.serverMetadata();
    if (!metadata.jwks_uri) throw new Error('the provider publishes no jwks_uri');
    const jwksOptions: jose.RemoteJWKSetOptions = { timeoutDuration: timeoutMs, cooldownDuration: jwksCooldownMs, cacheMaxAge: 10 * 60_000 };
    if (fetchImpl) (jwksOptions as Record<symbol, unknown>)[jose.customFetch] = fetchImpl;
    return { metadata, issuer: metadata.issuer, keys: jose.createRemoteJWKSet(new URL(metadata.jwks_uri), jwksOptions) };
  }

  /** The discovered provider for a bearer door: an unreachable provider is 503 `temporarily_unavailable`. */
  discoverForApi(): Promise<Discovered> {
    return this.discover().catch((error: unknown) => {
      throw new UnavailableError('The provider cannot be reached to verify tokens.', error);
    });
  }

  /** The verifier for these options, built once per distinct set of verification options. */
  async verifierFor(options: ResolvedKeygateOptions): Promise<TokenVerifier> {
    const { issuer, keys } = await this.discoverForApi();
    const build = (): TokenVerifier => {
      const verify = createTokenVerifier({
        issuer,
        audience: options.audience,
        algorithms: options.algorithms,
        keys,
        ...(options.sharedSecret !== undefined ? { hmacSecret: new TextEncoder().encode(options.sharedSecret) } : {}),
        clockTolerance: options.clockTolerance,
        maxTokenLifetime: options.maxTokenLifetime,
        ...(options.authorizedParty !== undefined ? { authorizedParty: options.authorizedParty } : {}),
        ...(options.now ? { now: options.now } : {}),
      });
      if (options.tokenCacheSize === 0) return verify;
      // Verification results only: the authorizer still asks the store about every request.
      return createCachedVerifier(verify, {
        maxEntries: options.tokenCacheSize,
        clockTolerance: options.clockTolerance,
        maxTokenLifetime: options.maxTokenLifetime,
        ...(options.now ? { now: options.now } : {}),
      });
    };
    // An injected clock or a shared secret makes the verifier private to its instance.
    if (options.now || options.sharedSecret !== undefined) return build();
    const key = JSON.stringify([options.audience, options.algorithms, options.clockTolerance, options.maxTokenLifetime, options.authorizedParty ?? null, options.tokenCacheSize]);
    let verifier = this.#verifiers.get(key);
    if (verifier === undefined) {
      verifier = build();
      this.#verifiers.set(key, verifier);
    }
    return verifier;
  }
}

/** Module-level registry: one client per issuer and network settings; a custom `fetch` gets a registry of its own. */
const shared = new Map<string, IssuerClient>();
const byFetch = new WeakMap<typeof fetch, Map<string, IssuerClient>>();

export function issuerClient(settings: IssuerSettings): IssuerClient {
  let registry = shared;
  if (settings.fetch) {
    registry = byFetch.get(settings.fetch) ?? new Map();
    byFetch.set(settings.fetch, registry);
  }
  const key = `${settings.issuer} ${settings.timeoutMs} ${settings.jwksCooldownMs}`;
  let entry = registry.get(key);
  if (entry === undefined) {
    entry = new IssuerClient({ issuer: settings.issuer, timeoutMs: settings.timeoutMs, jwksCooldownMs: settings.jwksCooldownMs, fetch: settings.fetch });
    registry.set(key, entry);
  }
  return entry;
}
