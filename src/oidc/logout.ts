import * as client from 'openid-client';
import type { RelyingParty } from './relying-party.js';

/**
 * Where a browser goes after Keygate's own logout: the provider's published `end_session_endpoint`
 * (RP-initiated logout with `id_token_hint`), else Auth0's `/v2/logout`, else back to Keygate's `/`.
 */
export async function endSessionUrl(provider: RelyingParty, idToken: string | undefined): Promise<string> {
  const { config } = provider;
  const home = new URL(`${config.baseUrl.pathname.replace(/\/$/, '')}/`, config.baseUrl).href;
  let configuration: client.Configuration;
  try {
    ({ configuration } = await provider.discover());
  } catch {
    return home; // Keygate's own session is already gone; do not strand the user on an error.
  }
  const metadata = configuration.serverMetadata();
  if (metadata.end_session_endpoint) {
    const parameters: Record<string, string> = { post_logout_redirect_uri: home, client_id: config.clientId };
    if (idToken) parameters.id_token_hint = idToken;
    return client.buildEndSessionUrl(configuration, parameters).href;
  }
  if (config.auth0) {
    const url = new URL('/v2/logout', metadata.issuer);
    url.searchParams.set('client_id', config.clientId);
    url.searchParams.set('returnTo', home);
    return url.href;
  }
  return home;
}
