import type { Allowlist } from '../keygate/validate.js';

const ADDRESS = /^[^@\s]+@([^@\s]+)$/;

/**
 * Whether an e-mail passes `ALLOWED_USERS`. No list: everyone passes. With a list: the address must be a single
 * well-formed address, not marked unverified, and equal (case-insensitively) to an entry or exactly in an `@domain`
 * entry's domain (subdomains do not pass).
 */
export function isAllowed(allowlist: Allowlist | undefined, email: unknown, emailVerified: unknown): boolean {
  if (allowlist === undefined) return true;
  // Some providers send email_verified as a string.
  if (typeof email !== 'string' || emailVerified === false || emailVerified === 'false') return false;
  const address = email.toLowerCase();
  const match = ADDRESS.exec(address);
  if (!match) return false;
  return allowlist.emails.has(address) || allowlist.domains.has(match[1]!);
}
