import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { DevUser } from '../config/types.js';

export interface DevIdpClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri?: string;
}

export interface DevIdpOptions {
  /** Absolute URL, may have a path, e.g. 'http://localhost:5000/idp' or 'http://127.0.0.1:41234'. */
  issuer: string;
  clients: DevIdpClient[];
  users: readonly DevUser[];
  /** Keys for oidc-provider's own cookies. */
  cookieKeys: string[];
  /** API scopes (e.g. `read:messages`) the provider grants in access tokens for an audience, besides the OIDC ones. */
  apiScopes?: readonly string[];
  /** Seconds, default 3600. */
  idTokenTtl?: number;
  /** Seconds, default 3600. */
  accessTokenTtl?: number;
}

export interface DevIdp {
  /** A node:http request handler. It receives requests whose URL path still includes the issuer's path prefix
   *  (e.g. '/idp/auth?...'); it strips the prefix itself (setting req.originalUrl to the full URL, which oidc-provider
   *  uses to compute its mount path) and serves both oidc-provider's routes and the interaction pages. */
  handler(req: IncomingMessage, res: ServerResponse): void;
  /** The issuer's pathname without trailing slash ('' when the issuer has no path): requests under it belong to the IdP. */
  mountPath: string;
  /** The Provider instance, for tests (e.g. listening to events). */
  provider: Provider;
}
