import * as client from 'openid-client';
import * as jose from 'jose';
import type { KeygateConfig } from '../config/types.js';
import { isLoopbackHost } from '../config/load.js';
import { createCachedVerifier } from '../token/cache.js';
import { createTokenVerifier, type TokenVerifier } from '../token/verifier.js';
import { mapOidcError } from './errors.js';

export interface OidcDeps {
  /** Replaces `fetch` for every call to the provider (tests inject network faults here). */
  fetch?: typeof fetch;
  now?: () => number;
  /** jose's JWKS cooldown: after a refetch, an unknown `kid` waits this long before the next one (tests shorten it). */
  jwksCooldownMs?: number;
}

/** A rotated key (a new `kid`) is picked up at most this long after the last JWKS fetch. */
export const JWKS_COOLDOWN_MS = 30_000;

export interface Discovered {
  configuration: client.Configuration;
  verifier: TokenVerifier;
  issuer: string;
  /** The provider's signing keys (remote JWKS with cooldown), shared by every verification. */
  keys: jose.JWTVerifyGetKey;
}

/**
 * The relying party's view of the provider: discovery once (retried after a failure, one attempt at a time),
 * the openid-client Configuration and the API token verifier built on the discovered issuer and JWKS.
 */
export class OidcProvider {
  #pending: Promise<Discovered> | undefined;
  #done: Discovered | undefined;

  constructor(
    readonly config: KeygateConfig,
    private readonly deps: OidcDeps = {},
  ) {}

  /** Resolves the discovered provider; rejects with a ProviderError (502/504) when it cannot be reached. */
  discover(): Promise<Discovered> {
    if (this.#done) return Promise.resolve(this.#done);
    this.#pending ??= this.#discover().then(
      (done) => {
        this.#done = done;
        return done;
      },
      (error: unknown) => {
        this.#pending = undefined;
        throw mapOidcError(error, 'discovery');
      },
    );
    return this.#pending;
  }

  async #discover(): Promise<Discovered> {
    const { config } = this;
    const issuerUrl = new URL(config.issuerUrl);
    const execute: Array<(c: client.Configuration) => void> = [client.enableNonRepudiationChecks];
    if (issuerUrl.protocol === 'http:' && isLoopbackHost(issuerUrl.hostname)) execute.push(client.allowInsecureRequests);
    const options: client.DiscoveryRequestOptions = { execute, timeout: Math.ceil(config.providerTimeoutMs / 1000) };
    if (this.deps.fetch) options[client.customFetch] = this.deps.fetch as client.CustomFetch;
    const configuration = await client.discovery(
      issuerUrl,
      config.clientId,
      { client_secret: config.clientSecret },
      client.ClientSecretPost(config.clientSecret),
      options,
    );
    configuration.timeout = Math.ceil(config.providerTimeoutMs / 1000);
    const metadata = configuration.serverMetadata();
    if (!metadata.jwks_uri) throw new Error('the provider publishes no jwks_uri');
    const jwksOptions: jose.RemoteJWKSetOptions = {
      timeoutDuration: config.providerTimeoutMs,
      cooldownDuration: this.deps.jwksCooldownMs ?? JWKS_COOLDOWN_MS,
      cacheMaxAge: 10 * 60_000,
    };
    if (this.deps.fetch) (jwksOptions as Record<symbol, unknown>)[jose.customFetch] = this.deps.fetch;
    const keys = jose.createRemoteJWKSet(new URL(metadata.jwks_uri), jwksOptions);
    const usesHmac = config.algorithms.some((alg) => alg.startsWith('HS'));
    const verify = createTokenVerifier({
      issuer: metadata.issuer,
      audience: config.audience ?? config.clientId,
      algorithms: config.algorithms,
      keys,
      ...(usesHmac ? { hmacSecret: new TextEncoder().encode(config.clientSecret) } : {}),
      clockTolerance: config.clockTolerance,
      maxTokenLifetime: config.maxTokenLifetime,
      ...(config.audience === undefined ? { authorizedParty: config.clientId } : {}),
      requiredScopes: config.requiredScopes,
      ...(this.deps.now ? { now: this.deps.now } : {}),
    });
    // The cache holds verification results only; authorize() still asks the store about every request.
    const verifier =
      config.tokenCacheSize > 0
        ? createCachedVerifier(verify, {
            maxEntries: config.tokenCacheSize,
            clockTolerance: config.clockTolerance,
            maxTokenLifetime: config.maxTokenLifetime,
            ...(this.deps.now ? { now: this.deps.now } : {}),
          })
        : verify;
    return { configuration, verifier, issuer: metadata.issuer, keys };
  }
}
