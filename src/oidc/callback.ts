import * as client from 'openid-client';
import { LoginError, ProviderError } from '../errors.js';
import { isAllowed } from '../policy/allowlist.js';
import type { Session } from '../session/store.js';
import { callbackUrl, type LoginTransaction } from './login.js';
import { mapOidcError, providerText } from './errors.js';
import type { RelyingParty } from './relying-party.js';

/** ALLOWED_USERS refused the user: the `sub` is kept for the audit trail (never shown to the browser). */
export class LoginRefusedError extends LoginError {
  constructor(readonly sub: string, description: string) {
    super('access_denied', description);
  }
}

/** The parts of a finished login that become a session (the caller adds the id). */
export type LoginResult = Omit<Session, 'id' | 'createdAt'> & { returnTo: string };

/**
 * Finishes the login: checks the response against the transaction (state, RFC 9207 `iss`), exchanges the code with
 * the PKCE verifier, validates the ID token (signature, nonce, iss, aud, azp, exp), reads userinfo, applies the
 * allowlist, and verifies the API token exactly as `/protected` will.
 */
export async function finishLogin(provider: RelyingParty, query: URLSearchParams, transaction: LoginTransaction): Promise<LoginResult> {
  const { config } = provider;
  const { configuration, verifier } = await provider.discover();
  if (['state', 'code', 'iss', 'error'].some((name) => query.getAll(name).length > 1)) {
    throw new LoginError('invalid_request', 'The login response repeats a parameter (state, code, iss or error).');
  }
  if (query.has('id_token') || query.has('access_token') || query.has('token')) {
    throw new LoginError('invalid_request', 'Tokens in the login response are not accepted (implicit flow is disabled).');
  }
  // Checked here, before openid-client, so that a forged or stale response is the client's 400, not a provider fault.
  if (query.get('state') !== transaction.state) {
    throw new LoginError('invalid_state', 'The login response does not belong to the login started in this browser (state mismatch). Please log in again.');
  }
  if (!query.get('code') && !query.get('error')) {
    throw new LoginError('invalid_request', 'The login response has neither a code nor an error.');
  }
  const metadata = configuration.serverMetadata();
  const iss = query.get('iss');
  if (iss !== null ? iss !== metadata.issuer : metadata.authorization_response_iss_parameter_supported === true) {
    throw new LoginError('invalid_issuer', 'The login response does not come from the configured provider (RFC 9207 iss).');
  }
  const currentUrl = callbackUrl(config);
  currentUrl.search = query.toString();

  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
      pkceCodeVerifier: transaction.codeVerifier,
      expectedState: transaction.state,
      expectedNonce: transaction.nonce,
      idTokenExpected: true,
    });
  } catch (error) {
    throw mapOidcError(error, 'code exchange');
  }
  const idClaims = tokens.claims();
  if (!idClaims || !tokens.id_token) throw new LoginError('invalid_id_token', 'The provider returned no ID token.');
  if (idClaims.azp !== undefined && idClaims.azp !== config.clientId) {
    throw new LoginError('invalid_id_token', 'The ID token was issued to another client (azp).');
  }
  if (tokens.token_type?.toLowerCase() !== 'bearer') {
    throw new ProviderError('provider_bad_response', `The provider issued a "${providerText(tokens.token_type, 32)}" token; Bearer is required.`);
  }

  let userinfo: client.UserInfoResponse | undefined;
  if (metadata.userinfo_endpoint) {
    try {
      userinfo = await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
    } catch (error) {
      // An access token minted for another API (AUDIENCE) may not be usable at userinfo: the ID token's claims
      // are the profile then. Any other failure ends the login (a different `sub` among them).
      if (!(config.audience !== undefined && error instanceof client.WWWAuthenticateChallengeError)) {
        throw mapOidcError(error, 'userinfo request');
      }
    }
  }
  const profile = { ...idClaims, ...userinfo };
  const email = typeof profile.email === 'string' ? profile.email : undefined;
  const emailVerified = typeof profile.email_verified === 'boolean' ? profile.email_verified : undefined;
  if (!isAllowed(config.allowlist, email, emailVerified)) {
    throw new LoginRefusedError(
      idClaims.sub,
      email === undefined
        ? 'Your account has no e-mail address, and this Keygate only lets in listed addresses.'
        : emailVerified === false
          ? `The address ${email} is not verified by the provider.`
          : `The address ${email} is not allowed to use this API.`,
    );
  }

  const apiToken = config.audience === undefined ? tokens.id_token : tokens.access_token;
  let verified;
  try {
    verified = await verifier(apiToken);
  } catch (error) {
    throw new ProviderError(
      'unusable_token',
      `The provider issued an API token that this Keygate cannot accept: ${error instanceof Error ? error.message : 'invalid'}`,
      error,
    );
  }
  return {
    sub: idClaims.sub,
    ...(email !== undefined ? { email } : {}),
    ...(emailVerified !== undefined ? { emailVerified } : {}),
    ...(typeof profile.name === 'string' ? { name: profile.name } : {}),
    ...(typeof profile.picture === 'string' ? { picture: profile.picture } : {}),
    apiToken,
    tokenKind: config.audience === undefined ? 'id_token' : 'access_token',
    tokenKey: verified.key,
    ...(apiToken !== tokens.id_token ? { idToken: tokens.id_token } : {}),
    ...(config.refresh && tokens.refresh_token !== undefined ? { refreshToken: tokens.refresh_token } : {}),
    ...(typeof idClaims.sid === 'string' && idClaims.sid !== '' ? { providerSid: idClaims.sid } : {}),
    expiresAt: verified.claims.exp * 1000,
    returnTo: transaction.returnTo,
  };
}

