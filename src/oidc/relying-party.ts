import * as client from 'openid-client';
import type * as jose from 'jose';
import type { ServerConfig } from '../config/types.js';
import type { Keygate } from '../keygate/create.js';
import type { TokenVerifier } from '../token/verifier.js';
import { ProviderError, type ProviderCode } from '../errors.js';
import { mapOidcError } from './errors.js';
import { discoveryUrl, describeCause } from './probe.js';

export interface Discovered {
  /** openid-client's Configuration for Keygate's own client (its id and secret), on the shared metadata. */
  configuration: client.Configuration;
  /** The core's verifier: API tokens issued at login are verified exactly as every door verifies them. */
  verifier: TokenVerifier;
  issuer: string;
  /** The provider's signing keys (remote JWKS with cooldown), shared by every verification. */
  keys: jose.JWTVerifyGetKey;
}

/**
 * Keygate as an OpenID Connect client (the relying party) of its provider, for the login, callback, refresh and
 * logout. It discovers nothing of its own: the metadata and the key set come from the core's issuer client, so a
 * login and a bearer request see one provider. Failures here are a page's failures (502/504), not the API's 503.
 */
export class RelyingParty {
  #pending: Promise<Discovered> | undefined;

  constructor(
    readonly config: ServerConfig,
    private readonly core: Keygate,
  ) {}

  /** Resolves the discovered provider; rejects with a ProviderError (502/504) when it cannot be reached. */
  discover(): Promise<Discovered> {
    this.#pending ??= this.#build().catch((error: unknown) => {
      this.#pending = undefined;
      const mapped = mapOidcError(error, 'discovery');
      // The page names where Keygate looked and what went wrong (ENOTFOUND, HTTP 404, a timeout), not only the log.
      if (!(mapped instanceof ProviderError)) throw mapped;
      const what = mapped.code === 'provider_timeout' ? 'did not answer in time' : mapped.code === 'provider_unreachable' ? 'could not be reached' : 'answered something unusable';
      throw new ProviderError(mapped.code as ProviderCode, `The provider's discovery at ${discoveryUrl(this.config.issuerUrl)} ${what}: ${describeCause(error)}.`, error);
    });
    return this.#pending;
  }

  async #build(): Promise<Discovered> {
    const { config, core } = this;
    const { metadata, issuer, keys } = await core.issuer.discover();
    const configuration = new client.Configuration(metadata, config.clientId, { client_secret: config.clientSecret }, client.ClientSecretPost(config.clientSecret));
    if (core.issuer.insecure) client.allowInsecureRequests(configuration);
    client.enableNonRepudiationChecks(configuration);
    if (core.options.fetch) configuration[client.customFetch] = core.options.fetch as client.CustomFetch;
    configuration.timeout = Math.ceil(config.providerTimeoutMs / 1000);
    const verifier = await core.verifier();
    return { configuration, verifier, issuer, keys };
  }
}
