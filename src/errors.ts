/**
 * Every error Keygate answers, in one place. Each code has one row in `ERROR_CODES` (its HTTP status and what it
 * means, the text `docs/errors.md` documents); each error carries its code, status, a human `description`, extra
 * headers and whether its text may be shown to the client (`expose`). `errorAnswer` turns any of them into the
 * answer that the server and both adapters send.
 */
export const ERROR_CODES = {
  // The bearer-protected API (RFC 6750 §3.1), every door alike.
  unauthorized: { status: 401, means: 'No credentials were sent: a bare `WWW-Authenticate: Bearer` challenge.' },
  invalid_request: { status: 400, means: 'The request is malformed: several tokens, a token in the query or body, a bad parameter or body.' },
  invalid_token: { status: 401, means: 'The token is damaged, expired, not for this API, revoked, or its login has ended.' },
  insufficient_scope: { status: 403, means: 'The token is valid but lacks a scope, permission or claim that the route requires.' },
  access_denied: { status: 403, means: 'The token is valid but its user is not allowed (allowlist), or the provider refused the login.' },
  temporarily_unavailable: { status: 503, means: 'The session store or the provider\'s keys cannot be reached: Keygate fails closed.' },
  // Keygate's own pages and routes.
  too_many_requests: { status: 429, means: 'A rate limit was reached; `Retry-After` says when to try again.' },
  cross_site_request: { status: 403, means: 'A cookie-authenticated change (logout, ending a session) came from another site.' },
  not_found: { status: 404, means: 'No such route, or no such session among the caller\'s own (`/sessions/:id`, `/admin/sessions/:id`).' },
  request_too_large: { status: 413, means: 'The request body is larger than Keygate accepts.' },
  unsupported_media_type: { status: 415, means: 'The request body has a content type Keygate does not read.' },
  server_error: { status: 500, means: 'An internal fault; it is logged, and its details are never shown.' },
  invalid_client: { status: 401, means: 'A caller of `POST /introspect` sent no, malformed or wrong client credentials (HTTP Basic, RFC 6749 §2.3.1).' },
  // The login flow.
  login_required: { status: 401, means: 'The login is over (the provider no longer honours its refresh token, or no session): log in again.' },
  login_expired: { status: 400, means: 'The callback matches no login in progress in this browser (expired, used, or cookies blocked).' },
  invalid_state: { status: 400, means: 'The callback\'s `state` does not match the login in progress.' },
  invalid_issuer: { status: 400, means: 'The callback\'s `iss` (RFC 9207) is not the configured provider.' },
  invalid_id_token: { status: 400, means: 'The ID token of the code exchange failed validation (signature, nonce, claims).' },
  invalid_grant: { status: 400, means: 'The authorization code is invalid, expired or already used.' },
  authorization_error: { status: 400, means: 'The provider answered the login with an error of its own (named in the description).' },
  refresh_unavailable: { status: 409, means: 'The session holds no refresh token to renew the API token with.' },
  // The provider failed.
  provider_error: { status: 502, means: 'The provider refused a call that should have succeeded.' },
  provider_unreachable: { status: 502, means: 'The provider could not be reached.' },
  provider_timeout: { status: 504, means: 'The provider did not answer within the timeout.' },
  provider_bad_response: { status: 502, means: 'The provider answered something invalid.' },
  unusable_token: { status: 502, means: 'The provider issued an API token that this Keygate cannot accept.' },
  // The upstream of the reverse-proxy mode (UPSTREAM) failed.
  bad_gateway: { status: 502, means: 'The upstream (`UPSTREAM`) refused the connection, reset it, or answered something that is not HTTP.' },
  gateway_timeout: { status: 504, means: 'The upstream (`UPSTREAM`) did not answer within `UPSTREAM_TIMEOUT_MS`.' },
} as const satisfies Record<string, { status: number; means: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface KeygateErrorOptions {
  code: ErrorCode;
  description: string;
  /** Defaults to the code's status in `ERROR_CODES`; set only to keep a 4xx status a parser reported. */
  status?: number;
  headers?: Record<string, string>;
  expose?: boolean;
  cause?: unknown;
}

export class KeygateError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly description: string;
  readonly headers: Record<string, string>;
  readonly expose: boolean;

  constructor(options: KeygateErrorOptions) {
    super(options.description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.status = options.status ?? ERROR_CODES[options.code].status;
    this.description = options.description;
    this.headers = options.headers ?? {};
    this.expose = options.expose ?? this.status < 500;
  }

  /** The status under the name Express's and Connect's error handlers read (`err.status || err.statusCode`). */
  get statusCode(): number {
    return this.status;
  }

  /** The RFC 6750 challenge this error answers with (`WWW-Authenticate`), when it has one. */
  get wwwAuthenticate(): string | undefined {
    return this.headers['www-authenticate'];
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

type BearerCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'access_denied';

/** RFC 6750 errors raised on the bearer-protected API; `code` undefined is the bare challenge (no credentials). */
export class BearerError extends KeygateError {
  constructor(code: BearerCode | undefined, description: string, options: { scope?: string; realm?: string; cause?: unknown } = {}) {
    const challenge = bearerChallenge({
      realm: options.realm,
      error: code,
      error_description: code === undefined ? undefined : description,
      scope: options.scope,
    });
    super({ code: code ?? 'unauthorized', description, headers: { 'www-authenticate': challenge }, cause: options.cause, expose: true });
  }
}

/** No credentials at all: 401 with a bare challenge (RFC 6750 §3.1). */
export const missingToken = () => new BearerError(undefined, 'An Authorization: Bearer <token> header is required.');
export const invalidRequest = (description: string, cause?: unknown) => new BearerError('invalid_request', description, { cause });
export const invalidToken = (description: string, cause?: unknown) => new BearerError('invalid_token', description, { cause });
export const insufficientScope = (scope: string, description = `The token lacks the scope this resource requires: ${scope}.`) =>
  new BearerError('insufficient_scope', description, { scope });
/** A stored session sealed under a SECRET_KEY this instance does not hold (another instance's, or a random dev key). */
export const keyMismatch = () =>
  invalidToken(
    'The login that issued this token was stored under a different SECRET_KEY than this instance has (key mismatch): '
      + 'give every instance that shares the session store the same SECRET_KEY.',
  );
export const accessDenied = (description: string) => new BearerError('access_denied', description);

/**
 * `POST /introspect` without valid client credentials: 401 with a Basic challenge (RFC 6749 §5.2, RFC 7662 §2.1).
 * One description for every cause, so the answer tells nothing about which part was wrong.
 */
export const invalidClient = () =>
  new KeygateError({
    code: 'invalid_client',
    description: 'Client authentication failed: send Authorization: Basic with an id and secret from INTROSPECTION_CLIENTS.',
    headers: { 'www-authenticate': 'Basic realm="keygate", charset="UTF-8"' },
    expose: true,
  });

/** The shared store or the provider's keys cannot be reached: fail closed. */
export class UnavailableError extends KeygateError {
  constructor(description: string, cause?: unknown) {
    super({ code: 'temporarily_unavailable', description, cause, expose: true, headers: { 'retry-after': '1' } });
  }
}

type LoginCode = 'login_required' | 'login_expired' | 'invalid_state' | 'invalid_issuer' | 'invalid_id_token' | 'invalid_grant'
  | 'authorization_error' | 'access_denied' | 'invalid_request' | 'refresh_unavailable' | 'cross_site_request' | 'not_found';

/** Failures of the login flow and of Keygate's pages (callback, logout, refresh); shown on an HTML page or as JSON. */
export class LoginError extends KeygateError {
  constructor(code: LoginCode, description: string, cause?: unknown) {
    super({ code, description, cause, expose: true });
  }
}

/** The provider no longer honours the refresh token: the login is over (the caller ends the session). */
export class RefreshRejectedError extends LoginError {
  constructor(description: string, cause?: unknown) {
    super('login_required', description, cause);
  }
}

export type ProviderCode = 'provider_error' | 'provider_unreachable' | 'provider_timeout' | 'provider_bad_response' | 'unusable_token';

/** The provider failed (down, slow, garbage): 502 bad gateway, 504 timeout. */
export class ProviderError extends KeygateError {
  constructor(code: ProviderCode, description: string, cause?: unknown) {
    super({ code, description, cause, expose: true });
  }
}

/** 429 with `Retry-After`: RFC 6750-style JSON on the API, an escaped HTML page on pages. */
export class RateLimitedError extends KeygateError {
  constructor(retryAfterSeconds: number, what: string) {
    super({
      code: 'too_many_requests',
      description: `Too many ${what} from this address. Try again in ${retryAfterSeconds} s.`,
      headers: { 'retry-after': String(retryAfterSeconds) },
      expose: true,
    });
  }
}

/**
 * A misuse found before anything runs (the environment, `createKeygate` options, a route policy): every problem at
 * once, each naming the setting. Not an HTTP answer: start-up or the route declaration fails.
 */
export class ProblemsError extends TypeError {
  constructor(
    what: string,
    readonly problems: readonly string[],
  ) {
    super(`${what}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = new.target.name;
  }
}

/** The environment (or `.env`) is invalid. */
export class ConfigError extends ProblemsError {
  constructor(problems: readonly string[]) {
    super('Invalid configuration', problems);
  }
}

/** Options given to `createKeygate` or an adapter are invalid. */
export class KeygateOptionsError extends ProblemsError {
  constructor(problems: readonly string[]) {
    super('Invalid Keygate options', problems);
  }
}

/** The policy a route was declared with is invalid (a programming mistake, found at start-up). */
export class PolicyError extends ProblemsError {
  constructor(problems: readonly string[]) {
    super('Invalid Keygate policy', problems);
  }
}

/** The answer for a refused request, the same at every door: status, headers, RFC 6750 JSON body. */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: { error: ErrorCode; error_description: string };
}

/** Text shown instead of the description of an error that is not exposed (its detail is logged, not answered). */
export const HIDDEN_DESCRIPTION = 'Keygate hit an internal error; it has been logged.';

/** Turns a KeygateError into the answer every door sends (the server's boundary, the Fastify plugin, the Express middleware). */
export function errorAnswer(error: KeygateError): ErrorAnswer {
  return {
    status: error.status,
    headers: { ...error.headers, 'cache-control': 'no-store' },
    body: { error: error.code, error_description: error.expose ? error.description : HIDDEN_DESCRIPTION },
  };
}
