import { invalidRequest } from '../errors.js';

/** The request a forward-auth call asks about, as the proxy describes it. */
export interface OriginalRequest {
  method: string;
  /** Path and query as the client sent them (normalised later, by the decision). */
  uri: string;
  /** `proto://host[:port]` of the original request: the audience of its identity assertion. */
  origin: string;
}

const NAMES = ['x-forwarded-method', 'x-original-method', 'x-forwarded-uri', 'x-original-uri', 'x-forwarded-host', 'x-forwarded-proto', 'host'] as const;
type Name = (typeof NAMES)[number];
const WANTED: ReadonlySet<string> = new Set(NAMES);
/** Lengths of the wanted names (4 and 14–18): any other header is passed over without a lower-cased copy. */
const LENGTHS = new Set(NAMES.map((name) => name.length));
const HOST = /^(?:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

/** Each header of interest once at most: a repeated one (a client's copy beside the proxy's) is ambiguous. */
function pick(rawHeaders: readonly string[]): Partial<Record<Name, string>> {
  const found: Partial<Record<Name, string>> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i]!;
    if (!LENGTHS.has(raw.length)) continue;
    const name = raw.toLowerCase();
    if (!WANTED.has(name)) continue;
    if (found[name as Name] !== undefined) throw invalidRequest(`The ${name} header was sent more than once.`);
    found[name as Name] = rawHeaders[i + 1] ?? '';
  }
  return found;
}

function agreed(a: string | undefined, b: string | undefined, what: string): string | undefined {
  if (a !== undefined && b !== undefined && a !== b) {
    throw invalidRequest(`X-Forwarded-${what} and X-Original-${what} disagree: one of them was forged.`);
  }
  return a ?? b;
}

/** How far the forwarding headers of one request are believed. */
export interface ForwardedOptions {
  /**
   * Whether the peer is a trusted proxy (`TRUST_PROXY`): only then do `X-Forwarded-Host` and `X-Forwarded-Proto`
   * name the origin; otherwise they are still checked (a malformed one is 400) but the request's own `Host` and
   * `fallbackProto` are used. Default true, the behaviour before this option existed.
   */
  trustForwarded?: boolean;
  /**
   * The original URI as the request's own path carries it (Envoy's ext_authz asks at `/auth` + the original path):
   * used when neither URI header is present; when one is, the two must agree.
   */
  uriFromPath?: string;
}

/**
 * Reads the original request from the forwarding headers of nginx (`X-Original-Method`, `X-Original-URI`),
 * Traefik and Caddy (`X-Forwarded-Method`, `X-Forwarded-Uri`), and `X-Forwarded-Host`/`-Proto` (else `Host` and
 * `fallbackProto`). The method defaults to the forward-auth request's own (nginx's subrequest keeps it). Anything
 * repeated, contradictory or malformed is refused with 400 `invalid_request`, so a forged header never picks a rule.
 */
export function originalRequest(rawHeaders: readonly string[], ownMethod: string, fallbackProto: 'http' | 'https', options: ForwardedOptions = {}): OriginalRequest {
  const h = pick(rawHeaders);
  const trusted = options.trustForwarded ?? true;
  const method = agreed(h['x-forwarded-method'], h['x-original-method'], 'Method') ?? ownMethod;
  let uri = agreed(h['x-forwarded-uri'], h['x-original-uri'], 'Uri');
  if (options.uriFromPath !== undefined) {
    if (uri !== undefined && uri !== options.uriFromPath) throw invalidRequest('The original URI in the /auth path and in X-Forwarded-Uri (or X-Original-URI) disagree: one of them was forged.');
    uri = options.uriFromPath;
  }
  if (uri === undefined || uri === '') throw invalidRequest('The original URI is missing: the proxy must send X-Forwarded-Uri or X-Original-URI.');
  const forwardedHost = h['x-forwarded-host']?.toLowerCase();
  if (forwardedHost !== undefined && !HOST.test(forwardedHost)) throw invalidRequest('X-Forwarded-Host is not one host[:port].');
  const forwardedProto = h['x-forwarded-proto']?.toLowerCase();
  if (forwardedProto !== undefined && forwardedProto !== 'http' && forwardedProto !== 'https') throw invalidRequest('X-Forwarded-Proto must be http or https.');
  const host = (trusted ? forwardedHost : undefined) ?? (h.host ?? '').toLowerCase();
  if (host !== forwardedHost && !HOST.test(host)) throw invalidRequest('X-Forwarded-Host (or Host) is missing or is not one host[:port].');
  const proto = (trusted ? forwardedProto : undefined) ?? fallbackProto;
  return { method, uri, origin: originOf(proto, host) };
}

/** Origins already parsed (a proxy serves a handful of hosts; the map is bounded as Host is the client's). */
const origins = new Map<string, string>();
let last = { proto: '', host: '', origin: '' };

function originOf(proto: string, host: string): string {
  // Most requests name the same host as the one before: two comparisons, no new string to hash.
  if (host === last.host && proto === last.proto) return last.origin;
  const candidate = `${proto}://${host}`;
  let origin = origins.get(candidate);
  if (origin === undefined) {
    try {
      origin = new URL(candidate).origin;
    } catch (error) {
      throw invalidRequest('X-Forwarded-Host (or Host) is not a valid host[:port].', error);
    }
    if (origins.size >= 1024) origins.delete(origins.keys().next().value!);
    origins.set(candidate, origin);
  }
  last = { proto, host, origin };
  return origin;
}
