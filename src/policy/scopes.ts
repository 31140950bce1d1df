import { insufficientScope } from '../errors.js';
import { grantedScopes } from '../token/verifier.js';
import type { PolicyCheck } from './types.js';

/** The token must grant every scope, in its `scope` string or its `scp` array (403 insufficient_scope otherwise). */
export function requireScopes(required: readonly string[]): PolicyCheck {
  return ({ claims }) => {
    const granted = grantedScopes(claims);
    if (!required.some((s) => !granted.has(s))) return;
    const scope = required.join(' ');
    if (claims.scope === undefined && claims.scp === undefined) {
      throw insufficientScope(scope, `The token carries no scopes at all (no "scope" claim), so it cannot grant ${scope}. `
        + 'ID tokens carry none: set AUDIENCE so that the API token is an access token for your API.');
    }
    throw insufficientScope(scope);
  };
}
