/**
 * One error hierarchy for everything Keygate answers. Each error carries its HTTP mapping
 * (status, a stable `code`, a human `description`, extra headers) and whether its text may be shown
 * to the client (`expose`); the HTTP boundary turns it into RFC 6750 JSON or an escaped HTML page.
 */
export interface KeygateErrorOptions {
  status: number;
  code: string;
  description: string;
  headers?: Record<string, string>;
  expose?: boolean;
  cause?: unknown;
}

export class KeygateError extends Error {
  readonly status: number;
  readonly code: string;
  readonly description: string;
  readonly headers: Record<string, string>;
  readonly expose: boolean;

  constructor(options: KeygateErrorOptions) {
    super(options.description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status;
    this.code = options.code;
    this.description = options.description;
    this.headers = options.headers ?? {};
    this.expose = options.expose ?? options.status < 500;
  }
}

/** Builds a `WWW-Authenticate: Bearer …` value with quoted-string escaping (RFC 7235 §2.2, RFC 6750 §3). */
export function bearerChallenge(params: Record<string, string | undefined>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    // RFC 6750 limits error_description to %x20-21 / %x23-5B / %x5D-7E: drop anything else, escape nothing.
    const safe = value.replace(/[^\x20-\x7e]/g, ' ').replace(/["\\]/g, "'");
    parts.push(`${key}="${safe}"`);
  }
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(', ')}`;
}

/** RFC 6750 errors raised on the bearer-protected API. */
export class BearerError extends KeygateError {
  constructor(status: number, code: string | undefined, description: string, options: { scope?: string; realm?: string; cause?: unknown } = {}) {
    const challenge = bearerChallenge({
      realm: options.realm,
      error: code,
      error_description: code === undefined ? undefined : description,
      scope: options.scope,
    });
    super({
      status,
      code: code ?? 'unauthorized',
      description,
      headers: { 'www-authenticate': challenge },
      cause: options.cause,
      expose: true,
    });
  }
}

/** No credentials at all: 401 with a bare challenge (RFC 6750 §3.1). */
export const missingToken = () => new BearerError(401, undefined, 'An Authorization: Bearer <token> header is required.');
export const invalidRequest = (description: string, cause?: unknown) => new BearerError(400, 'invalid_request', description, { cause });
export const invalidToken = (description: string, cause?: unknown) => new BearerError(401, 'invalid_token', description, { cause });
export const insufficientScope = (scope: string) =>
  new BearerError(403, 'insufficient_scope', `The token lacks the scope this resource requires: ${scope}.`, { scope });
export const accessDenied = (description: string) => new BearerError(403, 'access_denied', description);

/** The shared store or the provider's keys cannot be reached: fail closed. */
export class UnavailableError extends KeygateError {
  constructor(description: string, cause?: unknown) {
    super({ status: 503, code: 'temporarily_unavailable', description, cause, expose: true, headers: { 'retry-after': '1' } });
  }
}

/** Failures of the login flow (callback, provider answers); shown on an HTML page. */
export class LoginError extends KeygateError {
  constructor(status: number, code: string, description: string, cause?: unknown) {
    super({ status, code, description, cause, expose: true });
  }
}

/** The provider failed (down, slow, garbage): 502 bad gateway, 504 timeout. */
export class ProviderError extends KeygateError {
  constructor(status: 502 | 503 | 504, code: string, description: string, cause?: unknown) {
    super({ status, code, description, cause, expose: true });
  }
}
