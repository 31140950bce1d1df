/**
 * The checks of the settings that the library and the server share (issuer, algorithms, time limits, allowlist),
 * written once. Each takes the name the user wrote (`issuer` for `createKeygate`, `ISSUER_URL` for the environment)
 * and pushes its problems, so both report every problem at once in their own words.
 */

/** An allowlist of e-mail addresses and `@domain` entries, lower-cased. */
export interface Allowlist {
  /** Lower-cased full addresses. */
  emails: ReadonlySet<string>;
  /** Lower-cased domains, without the `@`. */
  domains: ReadonlySet<string>;
}

export const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);
export const HMAC_ALGORITHMS: ReadonlySet<string> = new Set(['HS256', 'HS384', 'HS512']);

/** Limits of the numeric settings: [default, min, max]. */
export const LIMITS = {
  clockTolerance: [30, 0, 60],
  maxTokenLifetime: [86_400, 60, 30 * 86_400],
  timeoutMs: [10_000, 100, 60_000],
  tokenCacheSize: [10_000, 0, 10_000_000],
  jwksCooldownMs: [30_000, 0, 300_000],
} as const satisfies Record<string, readonly [number, number, number]>;

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

export function parseUrl(value: string): URL | undefined {
  return URL.canParse(value) ? new URL(value) : undefined;
}

/** An issuer URL: https, or plain http on a loopback host; no query, fragment or credentials. */
export function checkIssuer(name: string, value: string, problems: string[]): string | undefined {
  const url = parseUrl(value);
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    problems.push(`${name}: expected an absolute https URL, got "${value}"`);
  } else if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    problems.push(`${name}: plain http is only allowed for loopback hosts; use https for "${url.host}"`);
  } else if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    problems.push(`${name}: must not carry a query, fragment or credentials`);
  } else return url.href;
  return undefined;
}

/** One audience identifier, without spaces. */
export function checkAudience(name: string, value: string, problems: string[]): void {
  if (value.trim() === '') problems.push(`${name}: set but blank; give the API identifier or client id tokens are issued for`);
  else if (/\s/.test(value)) problems.push(`${name}: must be one identifier without spaces, got "${value}"`);
}

/**
 * JWS algorithms: asymmetric ones, or HS* when a shared secret of at least 32 characters verifies them
 * (`secretName` says where it comes from). `none` is never accepted.
 */
export function checkAlgorithms(name: string, value: unknown, secret: { name: string; value: string | undefined }, problems: string[]): readonly string[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push(`${name}: a non-empty list of JWS algorithms`);
    return [];
  }
  for (const alg of value) {
    if (typeof alg === 'string' && HMAC_ALGORITHMS.has(alg)) {
      if (secret.value === undefined) problems.push(`${name}: ${alg} needs a shared secret (${secret.name}); otherwise list asymmetric algorithms only`);
      else if (secret.value.length < 32) problems.push(`${name}: ${alg} verifies with ${secret.name}, which must then be at least 32 characters`);
    } else if (typeof alg !== 'string' || !ASYMMETRIC_ALGORITHMS.has(alg)) {
      problems.push(`${name}: "${String(alg)}" is not a supported JWS algorithm (none is never accepted)`);
    }
  }
  return Object.freeze(value.map(String));
}

/** A whole number within `LIMITS[key]`; the default when undefined. */
export function checkLimit(name: string, key: keyof typeof LIMITS, value: unknown, problems: string[]): number {
  const [fallback, min, max] = LIMITS[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name}: expected a whole number from ${min} to ${max}, got ${typeof value === 'number' ? value : JSON.stringify(value)}`);
    return fallback;
  }
  return value;
}

/** E-mail addresses and `@domain` entries (each one entry of `entries`); undefined when there is none. */
export function parseAllowlist(name: string, entries: readonly string[], problems: string[]): Allowlist | undefined {
  const emails = new Set<string>();
  const domains = new Set<string>();
  for (const raw of entries.map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    if (/^@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(raw)) domains.add(raw.slice(1));
    else if (/^[^@\s,]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(raw)) emails.add(raw);
    else problems.push(`${name}: "${raw}" is neither an e-mail address nor an @domain entry`);
  }
  if (emails.size === 0 && domains.size === 0) return undefined;
  return Object.freeze({ emails, domains });
}

/** An allowlist given as an array (one address or `@domain` per entry). */
export function allowlistOption(name: string, value: unknown, problems: string[]): Allowlist | undefined {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    problems.push(`${name}: must be an array of e-mail addresses and @domain entries`);
    return undefined;
  }
  if (value.some((v: string) => v.includes(','))) {
    problems.push(`${name}: one address or @domain per array entry (no commas)`);
    return undefined;
  }
  if (value.every((v: string) => v.trim() === '')) problems.push(`${name}: empty; leave it out to allow everyone`);
  return parseAllowlist(name, value as string[], problems);
}

/** The entries of an allowlist, as `createKeygate` takes them. */
export function allowlistEntries(list: Allowlist): string[] {
  return [...list.emails, ...[...list.domains].map((d) => `@${d}`)];
}
