import type { KeygateAuth } from '../keygate/create.js';

/** RFC 7662 §2.2: the whole answer for any token that is not active — nothing else, so it is no oracle. */
export const INACTIVE = Object.freeze({ active: false as const });

export interface ActiveAnswer {
  active: true;
  sub: string;
  email?: string;
  scope?: string;
  exp: number;
  iat: number;
  iss?: string;
  aud?: string | string[];
  token_type: 'Bearer';
  client_id?: string;
}

/** RFC 7662 §2.2 for an active token, from what the one verification path established (claims and profile). */
export function activeAnswer(auth: KeygateAuth): ActiveAnswer {
  const { claims } = auth.token;
  const clientId = typeof claims.client_id === 'string' ? claims.client_id : typeof claims.azp === 'string' ? claims.azp : undefined;
  return {
    active: true,
    sub: claims.sub,
    ...(auth.profile.email !== undefined ? { email: auth.profile.email } : {}),
    ...(auth.scopes.length > 0 ? { scope: auth.scopes.join(' ') } : {}),
    exp: claims.exp,
    iat: claims.iat,
    ...(claims.iss !== undefined ? { iss: claims.iss } : {}),
    ...(claims.aud !== undefined ? { aud: claims.aud } : {}),
    token_type: 'Bearer',
    ...(clientId !== undefined ? { client_id: clientId } : {}),
  };
}
