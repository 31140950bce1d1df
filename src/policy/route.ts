import { accessDenied, PolicyError } from '../errors.js';
import { allowlistOption, type Allowlist } from '../keygate/validate.js';
import { isAllowed } from './allowlist.js';
import { checkClaimRules, requireClaims, type ClaimRule } from './claims.js';
import { requirePermissions } from './permissions.js';
import { requireScopes } from './scopes.js';
import { checkTokenList, type PolicyCheck, type PolicySubject } from './types.js';

/** What one route requires beyond a valid, unrevoked token. Every given part must pass. */
export interface RoutePolicy {
  /** Scopes the token must grant (its `scope` string or `scp` array). */
  scopes?: readonly string[];
  /** Auth0 RBAC permissions the token's `permissions` array must hold. */
  permissions?: readonly string[];
  /** Requirements on claims, by claim name. */
  claims?: Readonly<Record<string, ClaimRule>>;
  /** E-mail addresses and `@domain` entries allowed on this route (on top of the instance-wide allowlist). */
  allowlist?: readonly string[];
  /**
   * `false`: a request that carries no credentials at all (no `Authorization` header, no `access_token` anywhere)
   * reaches the route anonymously, with `request.auth` / `req.auth` undefined. A request that does carry credentials
   * is still checked in full: a bad, expired or revoked token is refused, never treated as anonymous. Default true.
   */
  authRequired?: boolean;
}

/** A validated policy, ready to run on every request. */
export interface CompiledPolicy {
  readonly policy: Readonly<RoutePolicy>;
  /** False when the route admits requests without credentials (`authRequired: false`). */
  readonly authRequired: boolean;
  check(subject: PolicySubject): void;
}

const KNOWN = new Set(['scopes', 'permissions', 'claims', 'allowlist', 'authRequired']);

/** Validates a policy once (when the route is declared), listing every problem; throws `TypeError` with them. */
export function compilePolicy(policy: RoutePolicy = {}, label = 'policy'): CompiledPolicy {
  const problems: string[] = [];
  if (typeof policy !== 'object' || policy === null) throw new TypeError(`${label}: must be an object`);
  for (const key of Object.keys(policy)) if (!KNOWN.has(key)) problems.push(`${label}.${key}: unknown option (known: ${[...KNOWN].join(', ')})`);
  const checks: PolicyCheck[] = [];
  if (policy.scopes !== undefined) checks.push(requireScopes(checkTokenList(`${label}.scopes`, policy.scopes, problems)));
  if (policy.permissions !== undefined) checks.push(requirePermissions(checkTokenList(`${label}.permissions`, policy.permissions, problems)));
  if (policy.claims !== undefined) checks.push(requireClaims(checkClaimRules(`${label}.claims`, policy.claims, problems)));
  if (policy.allowlist !== undefined) {
    const list = allowlistOption(`${label}.allowlist`, policy.allowlist, problems);
    if (list !== undefined) checks.push(requireAllowed(list));
  }
  if (policy.authRequired !== undefined && typeof policy.authRequired !== 'boolean') problems.push(`${label}.authRequired: true or false`);
  if (problems.length > 0) throw new PolicyError(problems);
  return Object.freeze({ policy: Object.freeze({ ...policy }), authRequired: policy.authRequired !== false, check: (subject: PolicySubject) => { for (const c of checks) c(subject); } });
}

export { PolicyError };

/** The same decision as the instance-wide allowlist, with the same answer (403 access_denied). */
function requireAllowed(list: Allowlist): PolicyCheck {
  return ({ profile }) => {
    if (!isAllowed(list, profile.email, profile.email_verified)) {
      throw accessDenied(
        profile.email === undefined
          ? 'The token carries no e-mail address, and only listed addresses may use this resource.'
          : `The address ${profile.email} may not use this resource.`,
      );
    }
  };
}
