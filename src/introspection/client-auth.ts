import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A configured introspection client (`INTROSPECTION_CLIENTS`). */
export interface ClientCredentials {
  id: string;
  secret: string;
}

/** Why client authentication failed: a reason for the audit trail, never shown in detail to the caller. */
export type ClientAuthFailure = 'missing' | 'malformed' | 'unknown_client' | 'wrong_secret';

export type ClientAuthResult = { ok: true; clientId: string } | { ok: false; reason: ClientAuthFailure; clientId?: string };

/** One-shot SHA-256 (`crypto.hash`, Node ≥ 20.12): no Hash object per request. */
const digest = (value: string) => hash('sha256', value, 'buffer');

/**
 * Checks presented client credentials against the configured ones in constant time: both sides are hashed to
 * 32-byte digests (so `timingSafeEqual` always compares equal lengths and the secret's length does not show), and an
 * unknown client id is compared against a random digest with the same work, so timing tells neither whether the id
 * exists nor how much of the secret was right. `equal` is injectable only so a test can see it is called every time.
 */
export function createClientAuthenticator(
  clients: readonly ClientCredentials[],
  equal: (a: Buffer, b: Buffer) => boolean = timingSafeEqual,
): (id: string, secret: string) => ClientAuthResult {
  const digests = new Map(clients.map((c) => [c.id, digest(c.secret)]));
  const decoy = randomBytes(32);
  return (id, secret) => {
    const expected = digests.get(id);
    const same = equal(digest(secret), expected ?? decoy);
    if (expected === undefined) return { ok: false, reason: 'unknown_client' };
    return same ? { ok: true, clientId: id } : { ok: false, reason: 'wrong_secret', clientId: id };
  };
}

/** Form-urlencoding as RFC 6749 §2.3.1 asks of Basic credentials (`+` is a space); undefined when malformed. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The client id and secret of `Authorization` header values (`Basic base64(urlencoded-id ":" urlencoded-secret)`),
 * or why there are none. Several Authorization headers, another scheme or bad encoding are `malformed`.
 */
export function basicCredentials(values: readonly string[]): { id: string; secret: string } | ClientAuthFailure {
  if (values.length === 0) return 'missing';
  if (values.length > 1) return 'malformed';
  const match = /^Basic +(\S+) *$/i.exec(values[0]!);
  if (!match) return 'malformed';
  const encoded = match[1]!;
  if (encoded.length % 4 !== 0 || !BASE64.test(encoded)) return 'malformed';
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return 'malformed';
  const id = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (id === undefined || secret === undefined || id === '' || secret === '') return 'malformed';
  return { id, secret };
}
