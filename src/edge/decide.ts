import { BearerError, invalidRequest, KeygateError, UnavailableError } from '../errors.js';
import type { Keygate, KeygateAuth } from '../keygate/create.js';
import type { CompiledPolicy } from '../policy/route.js';
import { bearerOf } from '../token/bearer.js';
import { normalisePath } from './normalise.js';
import { compileRules, METHOD, type RouteRule } from './rules.js';

/**
 * The edge's decision, shared by every edge door (`/auth` forward auth and the reverse proxy): framework-free,
 * over plain data. The door reads the request (and the signed session cookie, with the server's own cookie code),
 * calls `decide`, and turns the result into its answer.
 */
export interface EdgeRequest {
  /** The original request's method (upper case; anything else is refused with 400). */
  method: string;
  /** The original request's URI: path and optional query, as the client sent it (not yet normalised). */
  uri: string;
  /** Raw header list of the request that carries the credentials (for `Authorization: Bearer`, repeats visible). */
  rawHeaders: readonly string[];
  /** The session id from Keygate's signed session cookie, when it carried a valid one (`Cookies.sessionId`). */
  sessionId: string | undefined;
  /** Extra requirements of this door (e.g. `/auth?scope=…`), checked after the matching rule's. */
  policy?: CompiledPolicy | undefined;
}

/** Who was let in. `auth` is undefined on a public rule (nobody is identified there; `sub` and `email` are ''). */
export interface EdgeIdentity {
  sub: string;
  email: string;
  auth: KeygateAuth | undefined;
  /** How the caller was identified. */
  credential: 'bearer' | 'cookie' | 'none';
  /** The normalised path that was matched. */
  path: string;
  /** Index in `ROUTES` of the rule that decided; undefined when none matched (any logged-in user). */
  rule: number | undefined;
}

/** Allowed (`allow`), or the refusal to answer (its status, challenge and RFC 6750 body, see `errorAnswer`). */
export type EdgeDecision = { allow: EdgeIdentity } | KeygateError;

export interface Edge {
  /**
   * The decision: at once when everything is at hand (the token verified before, a store that answers without
   * waiting; see `Keygate.authorizeNow`), else a promise of it. Every refusal is a `KeygateError` returned or
   * resolved, never thrown; it throws or rejects only on internal faults.
   */
  decide(request: EdgeRequest): EdgeDecision | Promise<EdgeDecision>;
}

export interface EdgeOptions {
  /** The one core: its verifier, store and authorizer decide every credential. */
  keygate: Keygate;
  /** Validated route rules (`checkRouteRules`), first match wins. */
  rules: readonly RouteRule[];
}

function both(first: CompiledPolicy, second: CompiledPolicy | undefined): CompiledPolicy {
  if (second === undefined) return first;
  return { policy: { ...first.policy, ...second.policy }, authRequired: first.authRequired && second.authRequired, check: (subject) => { first.check(subject); second.check(subject); } };
}

/**
 * Which credential the `Authorization` header is. `bearer`: the Bearer scheme (or an empty or scheme-less value,
 * which bearerOf refuses as malformed); `other`: another scheme (Basic, Digest, …), meant for the application
 * behind the edge, as oauth2-proxy users expect: the session cookie is still read. Repeated: refused with 400,
 * whatever the schemes, as one of the two would be guessed.
 */
export function authorizationKind(rawHeaders: readonly string[]): 'none' | 'bearer' | 'other' {
  let value: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length !== 13 || rawHeaders[i]!.toLowerCase() !== 'authorization') continue;
    if (value !== undefined) throw invalidRequest('Several Authorization headers were sent; send exactly one.');
    value = rawHeaders[i + 1] ?? '';
  }
  if (value === undefined) return 'none';
  const scheme = /^\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+) +\S/.exec(value)?.[1];
  return scheme === undefined || scheme.toLowerCase() === 'bearer' ? 'bearer' : 'other';
}

const noCredentials = () =>
  new BearerError(undefined, 'Credentials are required: send Authorization: Bearer <token>, or log in (no live Keygate session cookie came with the request).');

/** Builds the edge decision over one Keygate core and one rule list (compiled once). */
export function createEdge(options: EdgeOptions): Edge {
  const { keygate } = options;
  const match = compileRules(options.rules);
  // Where no rule matches (or a rule sets no policy): any logged-in user, compiled once.
  const anyUser = keygate.policy();

  /** A refusal is the answer; anything else is a fault. */
  const refusal = (error: unknown): KeygateError => {
    if (error instanceof KeygateError) return error;
    throw error;
  };

  function decide(request: EdgeRequest): EdgeDecision | Promise<EdgeDecision> {
    try {
      if (!METHOD.test(request.method)) throw invalidRequest('The original method is not an upper-case method name.');
      const path = normalisePath(request.uri);
      const rule = match(request.method, path);
      if (rule?.public) return { allow: { sub: '', email: '', auth: undefined, credential: 'none', path, rule: rule.index } };
      const policy = both(rule?.policy ?? anyUser, request.policy);
      const allowed = (credential: EdgeIdentity['credential']) => (auth: KeygateAuth): EdgeDecision =>
        ({ allow: { sub: auth.profile.sub, email: auth.profile.email ?? '', auth, credential, path, rule: rule?.index } });

      // A Bearer Authorization header is the credential whenever there is one (as at /protected); the cookie
      // otherwise, also beside another scheme's header (Basic for the application), which the edge leaves alone.
      if (authorizationKind(request.rawHeaders) === 'bearer') {
        // The one verification path of every door: signature, claims, store (revocation, live login), allowlist, policy.
        const auth = keygate.authorizeNow(bearerOf({ rawHeaders: request.rawHeaders }), policy);
        return auth instanceof Promise ? auth.then(allowed('bearer'), refusal) : allowed('bearer')(auth);
      }
      if (request.sessionId === undefined) throw noCredentials();
      return fromSession(request.sessionId, policy).then(allowed('cookie'), refusal);
    } catch (error) {
      return refusal(error);
    }
  }

  /** The session cookie's login, authorized through its API token as a bearer would be. */
  async function fromSession(sessionId: string, policy: CompiledPolicy): Promise<KeygateAuth> {
    const session = await keygate.store.get(sessionId).catch((error: unknown) => {
      throw error instanceof KeygateError ? error : new UnavailableError('The session store cannot be reached.', error);
    });
    if (session === undefined) throw noCredentials();
    return keygate.authorize(session.apiToken, policy);
  }

  return Object.freeze({ decide });
}
