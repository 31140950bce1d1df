import { BearerError } from '../errors.js';
import type { VerifiedToken } from '../token/verifier.js';
import type { PolicyCheck } from './types.js';

/** The Auth0 RBAC `permissions` claim ("Add Permissions in the Access Token"), as a set. */
export function grantedPermissions(claims: VerifiedToken['claims']): Set<string> {
  const granted = new Set<string>();
  if (Array.isArray(claims.permissions)) for (const p of claims.permissions) if (typeof p === 'string') granted.add(p);
  return granted;
}

/** The token's `permissions` array must hold every permission (403 insufficient_scope naming them otherwise). */
export function requirePermissions(required: readonly string[]): PolicyCheck {
  const scope = required.join(' ');
  return ({ claims }) => {
    const granted = grantedPermissions(claims);
    if (required.some((p) => !granted.has(p))) {
      throw new BearerError('insufficient_scope', `The token lacks the permissions this resource requires: ${scope}.`, { scope });
    }
  };
}
