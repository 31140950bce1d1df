import * as client from 'openid-client';
import * as jose from 'jose';
import { isLoopbackHost } from '../config/load.js';
import { UnavailableError } from '../errors.js';
import { createCachedVerifier } from '../token/cache.js';
import { createTokenVerifier, type TokenVerifier } from '../token/verifier.js';
import type { ResolvedKeygateOptions } from './options.js';

/** What discovery yields for one issuer: the exact `iss` and its remote key set (cached, with cooldown, by jose). */
interface Discovered {
  issuer: string;
  keys: jose.JWTVerifyGetKey;
}

/**
 * One provider, shared by every Keygate instance (plugin, middleware, route) configured with the same issuer:
 * discovery runs once (retried after a failure, one attempt at a time), the JWKS is fetched and cached once, and
 * verifiers with the same verification options are built once, each with its verified-token cache, so that the
 * cache too is shared by every route and adapter of that issuer.
 */
export class IssuerEntry {
  #pending: Promise<Discovered> | undefined;
  #done: Discovered | undefined;
  readonly #verifiers = new Map<string, TokenVerifier>();
  /** Discovery documents fetched so far (for tests and metrics). */
  discoveries = 0;

  constructor(
    readonly issuerUrl: string,
    private readonly timeoutMs: number,
    private readonly fetchImpl: typeof fetch | undefined,
  ) {}

  discover(): Promise<Discovered> {
    if (this.#done) return Promise.resolve(this.#done);
    this.#pending ??= this.#discover().then(
      (done) => (this.#done = done),
      (error: unknown) => {
        this.#pending = undefined;
        throw new UnavailableError('The provider cannot be reached to verify tokens.', error);
      },
    );
    return this.#pending;
  }

  async #discover(): Promise<Discovered> {
    this.discoveries++;
    const url = new URL(this.issuerUrl);
    const execute: Array<(c: client.Configuration) => void> = [];
    if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) execute.push(client.allowInsecureRequests);
    const options: client.DiscoveryRequestOptions = { execute, timeout: Math.ceil(this.timeoutMs / 1000) };
    if (this.fetchImpl) options[client.customFetch] = this.fetchImpl as client.CustomFetch;
    // Only the server metadata is used; a resource server has no client id of its own.
    const configuration = await client.discovery(url, 'keygate-resource-server', undefined, client.None(), options);
    const metadata = configuration.serverMetadata();
    if (!metadata.jwks_uri) throw new Error('the provider publishes no jwks_uri');
    const jwksOptions: jose.RemoteJWKSetOptions = { timeoutDuration: this.timeoutMs, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 };
    if (this.fetchImpl) (jwksOptions as Record<symbol, unknown>)[jose.customFetch] = this.fetchImpl;
    return { issuer: metadata.issuer, keys: jose.createRemoteJWKSet(new URL(metadata.jwks_uri), jwksOptions) };
  }

  /** The verifier for these options, built once per distinct set of verification options. */
  async verifierFor(options: ResolvedKeygateOptions): Promise<TokenVerifier> {
    const { issuer, keys } = await this.discover();
    const build = (): TokenVerifier => {
      const verify = createTokenVerifier({
        issuer,
        audience: options.audience,
        algorithms: options.algorithms,
        keys,
        clockTolerance: options.clockTolerance,
        maxTokenLifetime: options.maxTokenLifetime,
        ...(options.authorizedParty !== undefined ? { authorizedParty: options.authorizedParty } : {}),
        ...(options.now ? { now: options.now } : {}),
      });
      if (options.tokenCacheSize === 0) return verify;
      // Verification results only: authorize() still asks the store about every request.
      return createCachedVerifier(verify, {
        maxEntries: options.tokenCacheSize,
        clockTolerance: options.clockTolerance,
        maxTokenLifetime: options.maxTokenLifetime,
        ...(options.now ? { now: options.now } : {}),
      });
    };
    // An injected clock makes the verifier private to its instance.
    if (options.now) return build();
    const key = JSON.stringify([options.audience, options.algorithms, options.clockTolerance, options.maxTokenLifetime, options.authorizedParty ?? null, options.tokenCacheSize]);
    let verifier = this.#verifiers.get(key);
    if (verifier === undefined) {
      verifier = build();
      this.#verifiers.set(key, verifier);
    }
    return verifier;
  }
}

/** Module-level registry: issuer (and timeout) → entry; a custom `fetch` gets a registry of its own. */
const shared = new Map<string, IssuerEntry>();
const byFetch = new WeakMap<typeof fetch, Map<string, IssuerEntry>>();

export function issuerEntry(options: Pick<ResolvedKeygateOptions, 'issuer' | 'timeoutMs' | 'fetch'>): IssuerEntry {
  let registry = shared;
  if (options.fetch) {
    registry = byFetch.get(options.fetch) ?? new Map();
    byFetch.set(options.fetch, registry);
  }
  const key = `${options.issuer} ${options.timeoutMs}`;
  let entry = registry.get(key);
  if (entry === undefined) {
    entry = new IssuerEntry(options.issuer, options.timeoutMs, options.fetch);
    registry.set(key, entry);
  }
  return entry;
}
