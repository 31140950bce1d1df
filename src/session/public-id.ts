import { createHash } from 'node:crypto';

/**
 * The id under which a session is shown to people (`GET /sessions`, `/admin`, audit lines): a one-way digest of the
 * internal id, so it is neither the cookie value nor the token, and cannot be turned back into either. 22 base64url
 * characters (132 bits) keep collisions out of reach while staying short enough for a URL path segment.
 */
export function publicSessionId(id: string): string {
  return createHash('sha256').update('keygate public session id\0').update(id).digest('base64url').slice(0, 22);
}

/** Whether a string has the shape of a public session id (anything else is refused before any store lookup). */
export function isPublicSessionId(value: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(value);
}
