import * as client from 'openid-client';
import { LoginError, ProviderError, RefreshRejectedError } from '../errors.js';
import type { Session, TokenRotation } from '../session/store.js';
import { mapOidcError } from './errors.js';
import type { RelyingParty } from './relying-party.js';

/**
 * Renews a session's API token with its refresh token (RFC 6749 §6). The new API token is verified exactly as
 * `/protected` will verify it, and must belong to the same subject. A rotated refresh token replaces the old one;
 * when the provider does not rotate, the old one is kept.
 */
export async function refreshLogin(provider: RelyingParty, session: Session): Promise<TokenRotation> {
  const { config } = provider;
  if (session.refreshToken === undefined) {
    throw new LoginError('refresh_unavailable', 'This login has no refresh token; log in again to renew the key.');
  }
  const { configuration, verifier } = await provider.discover();
  let tokens: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
  try {
    tokens = await client.refreshTokenGrant(configuration, session.refreshToken, config.audience !== undefined && config.auth0 ? { audience: config.audience } : undefined);
  } catch (error) {
    if (error instanceof client.ResponseBodyError && error.error === 'invalid_grant') {
      throw new RefreshRejectedError('The provider ended this login (the refresh token is no longer valid). Please log in again.', error);
    }
    throw mapOidcError(error, 'token refresh');
  }
  if (tokens.token_type?.toLowerCase() !== 'bearer') {
    throw new ProviderError('provider_bad_response', 'The provider issued a non-Bearer token on refresh.');
  }
  const idClaims = tokens.claims();
  if (idClaims !== undefined && idClaims.sub !== session.sub) {
    throw new RefreshRejectedError('The provider answered the refresh for another user (sub). Please log in again.');
  }
  const apiToken = config.audience === undefined ? tokens.id_token : tokens.access_token;
  if (apiToken === undefined) {
    throw new ProviderError('provider_bad_response', 'The provider returned no new ID token on refresh, so the API key cannot be renewed.');
  }
  let verified;
  try {
    verified = await verifier(apiToken);
  } catch (error) {
    throw new ProviderError('unusable_token', `The provider issued a renewed API token that this Keygate cannot accept: ${error instanceof Error ? error.message : 'invalid'}`, error);
  }
  if (verified.claims.sub !== session.sub) {
    throw new RefreshRejectedError('The renewed API token belongs to another user (sub). Please log in again.');
  }
  const idToken = config.audience === undefined ? undefined : (tokens.id_token ?? session.idToken);
  const refreshToken = tokens.refresh_token ?? session.refreshToken;
  return {
    apiToken,
    tokenKey: verified.key,
    ...(idToken !== undefined ? { idToken } : {}),
    refreshToken,
    expiresAt: verified.claims.exp * 1000,
  };
}
