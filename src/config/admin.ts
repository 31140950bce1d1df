import type { EnvReader } from './env.js';
import type { ServerConfig } from './types.js';

type Admin = Pick<ServerConfig, 'adminUsers' | 'adminScope'>;

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const DOMAIN = /^@[^@\s]+\.[^@\s]+$/;
/** One scope-token (RFC 6749 §3.3), as Auth0 writes permissions too: `admin:sessions`. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/;

/**
 * Who administers sessions: `ADMIN_USERS` (e-mails and `@domain` entries, matched on a verified e-mail) and/or
 * `ADMIN_SCOPE` (a scope or Auth0 permission an API token must carry). Neither set: nobody, and `/admin` answers 403.
 */
export function parseAdmin(r: EnvReader): Admin {
  const adminUsers: string[] = [];
  for (const entry of r.list('ADMIN_USERS') ?? []) {
    const lower = entry.toLowerCase();
    if (EMAIL.test(lower) || DOMAIN.test(lower)) adminUsers.push(lower);
    else r.problems.push(`ADMIN_USERS: "${entry}" is neither an e-mail address nor an @domain entry`);
  }
  const adminScope = r.read('ADMIN_SCOPE');
  if (adminScope !== undefined && !SCOPE.test(adminScope)) {
    r.problems.push(`ADMIN_SCOPE: expected one scope or permission (no spaces or quotes), got "${adminScope}"`);
  }
  return { adminUsers: Object.freeze(adminUsers), adminScope };
}
