import type { ClientMetadata, Configuration, JWK, KoaContextWithOIDC } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { AccountDirectory } from './account.js';
import { MemoryStore } from './store.js';
import { errorPage, logoutPage, postLogoutPage } from './pages.js';
import { OIDC_SCOPES, apiScopes } from './scopes.js';
import type { DevIdpClient, DevIdpOptions } from './types.js';

const DEFAULT_TTL = 3600;

export function clientMetadata(client: DevIdpClient): ClientMetadata {
  return {
    client_id: client.clientId,
    client_secret: client.clientSecret,
    redirect_uris: [...client.redirectUris],
    post_logout_redirect_uris: [...client.postLogoutRedirectUris],
    ...(client.backchannelLogoutUri
      ? { backchannel_logout_uri: client.backchannelLogoutUri, backchannel_logout_session_required: true }
      : {}),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // oidc-provider accepts client_secret_post as well for a client registered with client_secret_basic.
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  };
}

function positiveTtl(value: number | undefined, name: string): number {
  if (value === undefined) return DEFAULT_TTL;
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`${name} must be a positive integer number of seconds`);
  return value;
}

/** Auth0-style `audience=` (an extra parameter) stands for `resource=`. */
function requestedAudience(ctx: KoaContextWithOIDC): string | undefined {
  const value = (ctx.oidc.params as Record<string, unknown> | undefined)?.['audience'];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function asHtml(ctx: KoaContextWithOIDC, status: number | undefined, html: string): void {
  if (status !== undefined) ctx.status = status;
  ctx.type = 'html';
  ctx.body = html;
}

/** Builds oidc-provider's configuration for the embedded development provider. */
export function buildConfiguration(
  options: DevIdpOptions,
  mountPath: string,
  accounts: AccountDirectory,
  signingKey: JWK,
): Configuration {
  const idTokenTtl = positiveTtl(options.idTokenTtl, 'idTokenTtl');
  const accessTokenTtl = positiveTtl(options.accessTokenTtl, 'accessTokenTtl');
  if (!options.cookieKeys.length || options.cookieKeys.some((key) => typeof key !== 'string' || key === '')) {
    throw new TypeError('cookieKeys must hold at least one non-empty key');
  }
  const clientIds = new Set<string>(options.clients.map((c) => c.clientId));
  // The resource server grants the OpenID Connect scopes and the API scopes Keygate asks for (SCOPE).
  const resourceScope = [...OIDC_SCOPES.filter((s) => s !== 'offline_access'), ...apiScopes((options.apiScopes ?? []).join(' '))].join(' ');
  const backchannelUris = new Set<string>();
  for (const client of options.clients) {
    const href = client.backchannelLogoutUri ? URL.parse(client.backchannelLogoutUri)?.href : undefined;
    if (href) backchannelUris.add(href);
  }

  return {
    clients: options.clients.map(clientMetadata),
    adapter: new MemoryStore().factory,
    // The only outgoing requests are back-channel logouts to the configured clients, which are usually on loopback
    // (Keygate itself): allow exactly those URLs, without oidc-provider's block of private addresses, and nothing else.
    fetch: async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!backchannelUris.has(url)) throw new Error('outgoing request not allowed by the development provider');
      const { dispatcher: _ssrfDispatcher, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(url, rest);
    },
    jwks: { keys: [signingKey] },
    cookies: { keys: [...options.cookieKeys] },
    findAccount: accounts.findAccount,
    scopes: [...OIDC_SCOPES],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'nickname', 'picture'],
    },
    // Keep email and name in the ID token even when an access token is issued too.
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    pkce: { required: () => true },
    extraParams: ['audience'],
    interactions: {
      url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}`,
    },
    ttl: {
      AccessToken: accessTokenTtl,
      IdToken: idTokenTtl,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 8 * 3600,
      Grant: 8 * 3600,
      RefreshToken: 8 * 3600,
    },
    // Policy: every client of the dev provider gets a refresh token with each code exchange (they are all registered
    // with the refresh_token grant), without having to ask for offline_access. Without offline_access the refresh token
    // still ends with the provider session (oidc-provider's default `expiresWithSession`), so logging out at the IdP
    // invalidates it.
    // Every refresh rotates the refresh token (as Auth0's rotation does); reusing a rotated one revokes the grant.
    rotateRefreshToken: true,
    issueRefreshToken: (_ctx, client) => clientIds.has(client.clientId) && client.grantTypeAllowed('refresh_token'),
    extraTokenClaims: (_ctx, token) => {
      const accountId = 'accountId' in token ? token.accountId : undefined;
      const account = typeof accountId === 'string' ? accounts.bySub(accountId) : undefined;
      if (!account) return undefined;
      // Auth0-style RBAC: an access token for an API lists every permission of the user, whatever the scopes.
      const forApi = 'resourceServer' in token && token.resourceServer !== undefined;
      return forApi ? { email: account.user.email, permissions: [...(account.user.permissions ?? [])] } : { email: account.user.email };
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      revocation: { enabled: true },
      claimsParameter: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          asHtml(ctx, undefined, logoutPage(mountPath, form, ctx.oidc.client?.clientId, true));
        },
        postLogoutSuccessSource: (ctx) => {
          asHtml(ctx, undefined, postLogoutPage(mountPath));
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx, _client, oneOf) => {
          if (oneOf) return oneOf.length === 1 ? oneOf[0] : oneOf;
          return requestedAudience(ctx);
        },
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          const url = URL.parse(resource);
          if (!url || !/^https?:$/.test(url.protocol)) {
            throw new errors.InvalidTarget('the resource (audience) must be an absolute http(s) URI');
          }
          return {
            scope: resourceScope,
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL: accessTokenTtl,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    renderError: (ctx, out) => {
      const status = ctx.status >= 400 ? ctx.status : 400;
      const title = status >= 500 ? 'The development provider failed' : 'The sign-in request was rejected';
      asHtml(ctx, status, errorPage(mountPath, title, 'The development identity provider could not complete this request.', {
        error: out.error,
        error_description: out.error_description,
        state: out.state,
      }));
    },
  };
}
