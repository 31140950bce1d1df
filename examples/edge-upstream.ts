import { createRemoteJWKSet, jwtVerify } from 'jose';

/**
 * In the upstream behind the edge: who is calling, from the X-Keygate-Assertion header.
 * keygate: Keygate's BASE_URL; origin: this application's own origin, as browsers see it.
 */
export function assertionVerifier(keygate: string, origin: string) {
  const keys = createRemoteJWKSet(new URL(`${keygate}/.well-known/jwks.json`));
  return async (assertion: string) => {
    const { payload } = await jwtVerify(assertion, keys, { issuer: keygate, audience: origin, algorithms: ['ES256'], maxTokenAge: '60s' });
    return { sub: payload.sub!, email: String(payload.email ?? '') };
  };
}
