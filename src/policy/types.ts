import type { Profile } from '../token/authorize.js';
import type { VerifiedToken } from '../token/verifier.js';

/** What a policy looks at: the verified claims and the profile (from the session or the claims). */
export interface PolicySubject {
  claims: VerifiedToken['claims'];
  profile: Profile;
}

/** One compiled check: returns when it passes, throws a `BearerError` (403) when it does not. */
export type PolicyCheck = (subject: PolicySubject) => void;

/** A token string list: non-empty, no spaces (RFC 6749 §3.3 scope-token syntax, minus the quote and backslash). */
export function checkTokenList(name: string, value: unknown, problems: string[]): readonly string[] {
  if (!Array.isArray(value)) {
    problems.push(`${name}: must be an array of strings, got ${typeof value}`);
    return [];
  }
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(item)) {
      problems.push(`${name}: ${JSON.stringify(item)} is not a scope-like token (printable ASCII, no space, quote or backslash)`);
    } else out.push(item);
  }
  if (value.length === 0) problems.push(`${name}: empty; leave it out to require nothing`);
  return Object.freeze(out);
}
