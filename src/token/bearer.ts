import { invalidRequest, missingToken, BearerError } from '../errors.js';

/** RFC 6750 §2.1 b64token, with the scheme matched case-insensitively (RFC 7235 §2.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const SCHEME = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)(?: |$)/;

/** True when a parsed query or body carries `access_token` (RFC 6750 §2.2/2.3 forms, refused here). */
export function carriesToken(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, 'access_token');
}

export interface BearerRequest {
  /** Raw header list as received (name, value, name, value, …), so repeated headers are visible. */
  rawHeaders: readonly string[];
  /** Whether the query string carries `access_token` (RFC 6750 §2.3, refused here). */
  queryHasToken: boolean;
  /** Whether a form or JSON body carries `access_token` (RFC 6750 §2.2, refused here). */
  bodyHasToken: boolean;
}

/**
 * Extracts the bearer token of a request, from the `Authorization` header only.
 * No credentials at all → 401 with a bare challenge; any malformed or ambiguous form → 400 invalid_request.
 */
export function extractBearer(request: BearerRequest): string {
  const values: string[] = [];
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') values.push(request.rawHeaders[i + 1] ?? '');
  }
  if (request.queryHasToken || request.bodyHasToken) {
    throw invalidRequest(
      request.queryHasToken
        ? 'Tokens in the query string are not accepted; send an Authorization: Bearer header.'
        : 'Tokens in the request body are not accepted; send an Authorization: Bearer header.',
    );
  }
  if (values.length === 0) throw missingToken();
  if (values.length > 1) throw invalidRequest('Several Authorization headers were sent; send exactly one.');
  const header = values[0]!.trim();
  const match = BEARER.exec(header);
  if (match) return match[1]!;
  const scheme = SCHEME.exec(header)?.[1];
  if (scheme !== undefined && scheme.toLowerCase() !== 'bearer') {
    // Another scheme is not a malformed bearer request: challenge for Bearer (RFC 6750 §3.1).
    return rejectScheme(scheme);
  }
  if (header === '' || /^bearer *$/i.test(header)) throw invalidRequest('The Authorization header has no token after "Bearer".');
  throw invalidRequest('The Authorization header is malformed; expected "Bearer <token>" with one token and nothing else.');
}

function rejectScheme(scheme: string): never {
  const shown = scheme.length > 20 ? `${scheme.slice(0, 20)}…` : scheme;
  throw new BearerError(undefined, `The ${shown} authorization scheme is not accepted; send "Authorization: Bearer <token>".`);
}

/** The parts of an HTTP request that decide where its token is: raw headers, parsed query and body. */
export interface AuthRequest {
  rawHeaders: readonly string[];
  query?: unknown;
  body?: unknown;
}

/**
 * True when a request carries credentials of any kind Keygate looks at: an `Authorization` header (any scheme, even
 * empty) or `access_token` in the query or body. Only a request without any of them may pass as anonymous.
 */
export function hasCredentials(request: AuthRequest): boolean {
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') return true;
  }
  return carriesToken(request.query) || carriesToken(request.body);
}

/** The bearer token of a request (the `Authorization` header only; a token in the query or body is refused). */
export function bearerOf(request: AuthRequest): string {
  return extractBearer({ rawHeaders: request.rawHeaders, queryHasToken: carriesToken(request.query), bodyHasToken: carriesToken(request.body) });
}
