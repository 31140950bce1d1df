import { invalidRequest } from '../errors.js';

/** The request a forward-auth call asks about, as the proxy describes it. */
export interface OriginalRequest {
  method: string;
  /** Path and query as the client sent them (normalised later, by the decision). */
  uri: string;
  /** `proto://host[:port]` of the original request: the audience of its identity assertion. */
  origin: string;
}

/** The headers read, by their index in the list that `pick` returns. */
const NAMES = ['x-forwarded-method', 'x-original-method', 'x-forwarded-uri', 'x-original-uri', 'x-forwarded-host', 'x-forwarded-proto', 'host'] as const;
const [FORWARDED_METHOD, ORIGINAL_METHOD, FORWARDED_URI, ORIGINAL_URI, FORWARDED_HOST, FORWARDED_PROTO, HOST_HEADER] = [0, 1, 2, 3, 4, 5, 6] as const;
/** Header name length → indexes of the wanted names of that length (4 and 14–18): any other is passed over at once. */
const BY_LENGTH: Array<number[] | undefined> = [];
for (const [index, name] of NAMES.entries()) (BY_LENGTH[name.length] ??= []).push(index);
const HOST = /^(?:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

/** `name` is `lower` (a lower-case header name) but for the case of its ASCII letters; no lower-cased copy is made. */
function sameName(name: string, lower: string): boolean {
  if (name === lower) return true;
  for (let k = 0; k < lower.length; k++) {
    const c = name.charCodeAt(k);
    const wanted = lower.charCodeAt(k);
    if (c !== wanted && !(c >= 65 && c <= 90 && c + 32 === wanted)) return false;
  }
  return true;
}

/**
 * The value of each header of `NAMES` (at its index), each once at most: a repeated one (a client's copy beside the
 * proxy's) is ambiguous. A fixed-length list, not an object with header names as keys: this runs on every request.
 */
function pick(rawHeaders: readonly string[]): Array<string | undefined> {
  const found = [undefined, undefined, undefined, undefined, undefined, undefined, undefined] as Array<string | undefined>;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i]!;
    const candidates = BY_LENGTH[raw.length];
    if (candidates === undefined) continue;
    for (const index of candidates) {
      if (!sameName(raw, NAMES[index]!)) continue;
      if (found[index] !== undefined) throw invalidRequest(`The ${NAMES[index]} header was sent more than once.`);
      found[index] = rawHeaders[i + 1] ?? '';
    }
  }
  return found;
}

/** Hosts found well-formed (a proxy names a handful; bounded, as Host is the client's). */
const wellFormedHosts = new Set<string>();

function isHost(host: string): boolean {
  if (wellFormedHosts.has(host)) return true;
  if (!HOST.test(host)) return false;
  if (wellFormedHosts.size >= 1024) wellFormedHosts.clear();
  wellFormedHosts.add(host);
  return true;
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
  const method = agreed(h[FORWARDED_METHOD], h[ORIGINAL_METHOD], 'Method') ?? ownMethod;
  let uri = agreed(h[FORWARDED_URI], h[ORIGINAL_URI], 'Uri');
  if (options.uriFromPath !== undefined) {
    if (uri !== undefined && uri !== options.uriFromPath) throw invalidRequest('The original URI in the /auth path and in X-Forwarded-Uri (or X-Original-URI) disagree: one of them was forged.');
    uri = options.uriFromPath;
  }
  if (uri === undefined || uri === '') throw invalidRequest('The original URI is missing: the proxy must send X-Forwarded-Uri or X-Original-URI.');
  const forwardedHost = h[FORWARDED_HOST]?.toLowerCase();
  if (forwardedHost !== undefined && !isHost(forwardedHost)) throw invalidRequest('X-Forwarded-Host is not one host[:port].');
  const forwardedProto = h[FORWARDED_PROTO]?.toLowerCase();
  if (forwardedProto !== undefined && forwardedProto !== 'http' && forwardedProto !== 'https') throw invalidRequest('X-Forwarded-Proto must be http or https.');
  const host = (trusted ? forwardedHost : undefined) ?? (h[HOST_HEADER] ?? '').toLowerCase();
  if (host !== forwardedHost && !isHost(host)) throw invalidRequest('X-Forwarded-Host (or Host) is missing or is not one host[:port].');
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
