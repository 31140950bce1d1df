/**
 * Which scopes the development provider grants. OpenID Connect scopes always; every other scope (an API scope such
 * as `read:messages`) only in an access token for an audience, because an ID token carries no `scope` claim. Kept
 * free of oidc-provider so the server can report refused scopes without loading the provider.
 */
export const OIDC_SCOPES: readonly string[] = ['openid', 'offline_access', 'email', 'profile'];

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

function words(scope: string): string[] {
  return [...new Set(scope.split(/\s+/).filter(Boolean))];
}

/** The API scopes in `scope` that the provider registers for the audience's resource server. */
export function apiScopes(scope: string): string[] {
  return words(scope).filter((s) => !OIDC_SCOPES.includes(s) && SCOPE_TOKEN.test(s));
}

/** Scopes asked in `scope` that the development provider will not grant, each with the reason. */
export function refusedScopes(scope: string, audience: string | undefined): { scope: string; reason: string }[] {
  const refused: { scope: string; reason: string }[] = [];
  for (const s of words(scope)) {
    if (OIDC_SCOPES.includes(s)) continue;
    if (!SCOPE_TOKEN.test(s)) refused.push({ scope: s, reason: 'it is not a valid scope name' });
    else if (audience === undefined) refused.push({ scope: s, reason: 'API scopes are granted only in access tokens; set AUDIENCE' });
  }
  return refused;
}

/** The start-up warnings for `refusedScopes`, naming SCOPE and the scope. */
export function scopeWarnings(scope: string, audience: string | undefined): string[] {
  return refusedScopes(scope, audience).map(
    (r) => `SCOPE: the development provider will not grant "${r.scope}" (${r.reason}); tokens will not carry it`,
  );
}
