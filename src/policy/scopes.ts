import { insufficientScope } from '../errors.js';
import { grantedScopes } from '../token/verifier.js';
import type { PolicyCheck } from './types.js';

/** The token must grant every scope, in its `scope` string or its `scp` array (403 insufficient_scope otherwise). */
export function requireScopes(required: readonly string[]): PolicyCheck {
  return ({ claims }) => {
    const granted = grantedScopes(claims);
    if (required.some((s) => !granted.has(s))) throw insufficientScope(required.join(' '));
  };
}
