import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { jws, makeKey, type Json, type Signer, type SigningKey } from './jws.js';

/**
 * A hostile OpenID Provider under the tests' control, on 127.0.0.1: discovery, JWKS, authorization and token
 * endpoints (and userinfo when asked). It signs with its own keys by default; each test may swap the keys, the
 * signer, the claims, or damage any byte of any answer. Every request is counted by path.
 */
export const CLIENT_ID = 'keygate-sec';
export const CLIENT_SECRET = 'test-fixture-hostile-op-client-secret-not-real';

export interface RawAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Accept the request and never answer (a hung provider). */
  hang?: boolean;
}

/** What the token endpoint returns for one code, built when the code is redeemed. */
export interface TokenPlan {
  /** Claims added to (or, as undefined, removed from) the default ID token claims. */
  claims?: Json;
  header?: Json;
  signer?: Signer;
  /** Replaces the whole id_token string. */
  idToken?: (defaults: { claims: Json; header: Json; op: HostileOp }) => string;
  /** Extra or replaced JSON members of the token response. */
  response?: Json;
  /** Replaces the token endpoint's HTTP answer. */
  raw?: RawAnswer;
}

interface CodeGrant {
  clientId: string;
  redirectUri: string;
  nonce: string | undefined;
  challenge: string | undefined;
  used: boolean;
}

export interface HostileOp {
  issuer: string;
  origin: string;
  /** Keys published in the JWKS; `keys[0]` signs by default. */
  keys: SigningKey[];
  /** A key the provider never published. */
  attackerKey: SigningKey;
  /** Members added to (undefined: removed from) the discovery document. */
  discovery: Json;
  /** Replaces the JWKS answer (status, body, hang) while set. */
  jwksAnswer: RawAnswer | undefined;
  /** Replaces the discovery answer while set. */
  discoveryAnswer: RawAnswer | undefined;
  /** Applied to the next codes' token answers (per code plans win). */
  plan: TokenPlan;
  /** Requests seen, by path. */
  hits: Map<string, number>;
  /** Token requests' form bodies. */
  tokenRequests: URLSearchParams[];
  userinfo: Json | undefined;
  /** Damages the body of every answer on this path (any byte), after it is built. */
  damage: { path: string; apply: (body: Buffer) => Buffer } | undefined;
  /** A code that the authorization endpoint would issue, without a browser (an injected or a stolen code). */
  issueCode(grant: { nonce?: string; challenge?: string; redirectUri: string }): string;
  /** An ID token with the default claims for CLIENT_ID, merged with `claims`, signed by `signer` (own key by default). */
  idToken(options?: { claims?: Json; header?: Json; signer?: Signer }): string;
  defaultClaims(extra?: Json): Json;
  reset(): void;
  close(): Promise<void>;
}

/** Set per request: the damage to apply to this answer's body, if any. */
const DAMAGE = new WeakMap<ServerResponse, (body: Buffer) => Buffer>();

function send(res: ServerResponse, answer: RawAnswer): void {
  if (answer.hang) return;
  let body: Buffer = Buffer.from(answer.body ?? '');
  const damage = DAMAGE.get(res);
  if (damage) body = damage(body);
  res.writeHead(answer.status ?? 200, answer.headers ?? { 'content-type': 'application/json' });
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, { status, body: JSON.stringify(body) });
}

/** Flips the lowest bit of byte `index`: a base64url character becomes another one, or an invalid one. */
export function flipByte(index: number): (body: Buffer) => Buffer {
  return (body) => {
    const copy = Buffer.from(body);
    if (index < copy.length) copy[index] = copy[index]! ^ 0x01;
    return copy;
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function merge(base: Json, extra: Json | undefined): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

export async function startHostileOp(): Promise<HostileOp> {
  const codes = new Map<string, CodeGrant>();
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const primary = makeKey('op-key-1');
  const attacker = makeKey('op-key-1'); // same kid as the real key: only the signature tells them apart

  const op: HostileOp = {
    issuer: origin,
    origin,
    keys: [primary],
    attackerKey: attacker,
    discovery: {},
    jwksAnswer: undefined,
    discoveryAnswer: undefined,
    plan: {},
    hits: new Map(),
    tokenRequests: [],
    userinfo: undefined,
    damage: undefined,
    issueCode({ nonce, challenge, redirectUri }) {
      const code = randomBytes(16).toString('base64url');
      codes.set(code, { clientId: CLIENT_ID, redirectUri, nonce, challenge, used: false });
      return code;
    },
    defaultClaims(extra) {
      const now = Math.floor(Date.now() / 1000);
      return merge(
        { iss: op.issuer, sub: 'user-1', aud: CLIENT_ID, azp: CLIENT_ID, iat: now, exp: now + 600, email: 'alice@example.com', email_verified: true },
        extra,
      );
    },
    idToken(options = {}) {
      const signer = options.signer ?? { key: op.keys[0]! };
      const key = 'key' in signer ? signer.key : undefined;
      const header = merge({ alg: key?.alg ?? 'RS256', typ: 'JWT', ...(key ? { kid: key.kid } : {}) }, options.header);
      return jws({ header, payload: op.defaultClaims(options.claims), signer });
    },
    reset() {
      op.keys = [primary];
      op.discovery = {};
      op.jwksAnswer = undefined;
      op.discoveryAnswer = undefined;
      op.plan = {};
      op.hits.clear();
      op.tokenRequests = [];
      op.userinfo = undefined;
      op.damage = undefined;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const discoveryDocument = (): Json =>
    merge(
      {
        issuer: op.issuer,
        authorization_endpoint: `${origin}/authorize`,
        token_endpoint: `${origin}/token`,
        jwks_uri: `${origin}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['client_secret_post'],
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
      },
      op.discovery,
    );

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', origin);
    op.hits.set(url.pathname, (op.hits.get(url.pathname) ?? 0) + 1);
    if (op.damage && op.damage.path === url.pathname) DAMAGE.set(res, op.damage.apply);
    void (async () => {
      switch (url.pathname) {
        case '/.well-known/openid-configuration':
          return op.discoveryAnswer ? send(res, op.discoveryAnswer) : json(res, 200, discoveryDocument());
        case '/jwks':
          return op.jwksAnswer ? send(res, op.jwksAnswer) : json(res, 200, { keys: op.keys.map((k) => k.jwk) });
        case '/authorize': {
          // A consenting user: redirect straight back with a code, the state and the RFC 9207 iss.
          const redirectUri = url.searchParams.get('redirect_uri') ?? '';
          const code = op.issueCode({
            nonce: url.searchParams.get('nonce') ?? undefined,
            challenge: url.searchParams.get('code_challenge') ?? undefined,
            redirectUri,
          });
          const back = new URL(redirectUri);
          back.searchParams.set('code', code);
          back.searchParams.set('state', url.searchParams.get('state') ?? '');
          back.searchParams.set('iss', op.issuer);
          res.writeHead(302, { location: back.href });
          return res.end();
        }
        case '/token': {
          const form = new URLSearchParams(await readBody(req));
          op.tokenRequests.push(form);
          const plan = op.plan;
          if (plan.raw) return send(res, plan.raw);
          const grant = codes.get(form.get('code') ?? '');
          if (form.get('client_id') !== CLIENT_ID || form.get('client_secret') !== CLIENT_SECRET) return json(res, 401, { error: 'invalid_client' });
          if (!grant || grant.used) return json(res, 400, { error: 'invalid_grant', error_description: 'unknown or used code' });
          grant.used = true;
          const verifier = form.get('code_verifier') ?? '';
          if (grant.challenge !== undefined && createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) {
            return json(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
          }
          if (form.get('redirect_uri') !== grant.redirectUri) return json(res, 400, { error: 'invalid_grant', error_description: 'redirect_uri mismatch' });
          const claims = op.defaultClaims({ ...(grant.nonce !== undefined ? { nonce: grant.nonce } : {}), ...plan.claims });
          const signer = plan.signer ?? { key: op.keys[0]! };
          const key = 'key' in signer ? signer.key : undefined;
          const header = merge({ alg: key?.alg ?? 'RS256', typ: 'JWT', ...(key ? { kid: key.kid } : {}) }, plan.header);
          const idToken = plan.idToken ? plan.idToken({ claims, header, op }) : jws({ header, payload: claims, signer });
          return json(res, 200, merge({ access_token: randomBytes(16).toString('base64url'), token_type: 'Bearer', expires_in: 600, id_token: idToken }, plan.response));
        }
        case '/userinfo':
          return op.userinfo ? json(res, 200, op.userinfo) : json(res, 404, { error: 'not_found' });
        default:
          return json(res, 404, { error: 'not_found' });
      }
    })().catch(() => {
      if (!res.headersSent) json(res, 500, { error: 'server_error' });
    });
  });
  return op;
}

/** A host the attacker controls: records every request that reaches it, and serves the attacker's JWKS. */
export interface AttackerHost {
  origin: string;
  requests: Array<{ method: string; url: string }>;
  close(): Promise<void>;
}

export async function startAttackerHost(publish: Json = { keys: [] }): Promise<AttackerHost> {
  const requests: AttackerHost['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(publish));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
