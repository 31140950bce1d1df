/** Who administers sessions (ADMIN_USERS, ADMIN_SCOPE), as plain data: the server's config fills it. */
export interface AdminRule {
  /** Lower-case e-mails and `@domain` entries. */
  users: readonly string[];
  /** A scope or Auth0 permission. */
  scope: string | undefined;
}

/** What is known of a caller whose token has just been verified (and whose login is alive). */
export interface AdminCandidate {
  email: string | undefined;
  emailVerified: boolean | undefined;
  scopes: readonly string[];
  permissions: readonly string[];
}

/**
 * Whether the caller is an administrator: a listed e-mail or domain, but only when the provider says the address is
 * verified (anyone can sign up with an unverified address at many providers), or the admin scope/permission on the
 * verified token. Nobody when neither setting is given.
 */
export function isAdministrator(rule: AdminRule, caller: AdminCandidate): boolean {
  if (rule.scope !== undefined && (caller.scopes.includes(rule.scope) || caller.permissions.includes(rule.scope))) return true;
  if (caller.email === undefined || caller.emailVerified !== true || rule.users.length === 0) return false;
  const email = caller.email.toLowerCase();
  const at = email.lastIndexOf('@');
  return rule.users.includes(email) || (at > 0 && rule.users.includes(email.slice(at)));
}
