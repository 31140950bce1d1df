import { constants, KeyObject, verify as cryptoVerify, type VerifyKeyObjectInput } from 'node:crypto';
import * as jose from 'jose';

/**
 * `jose.jwtVerify` with the signature checked by node:crypto instead of WebCrypto.
 *
 * On Node 20, `crypto.subtle.verify` queues every RS256 check on the libuv thread pool and resolves a promise per
 * call; `crypto.verify` with a cached `KeyObject` does the same OpenSSL work synchronously, about twice as fast in
 * bench/verify-micro.ts. Everything else stays jose's:
 * - the claims (iss, aud, exp, nbf, iat, max age, required claims) go through jose's own claim-set validation
 *   (`UnsecuredJWT.decode` runs the same `validateClaimsSet` with the same options and errors as `jwtVerify`);
 * - the key comes from the same `getKey` (the JWKS of `createRemoteJWKSet`, which caches imported keys per kid);
 * - any input outside the plain case — a header that is not a plain JSON object in strict UTF-8, a `crit` header, an
 *   algorithm not allowed or not in the table below, a key that is not a public CryptoKey imported for exactly this
 *   algorithm with the `verify` usage, an RSA key under 2048 bits — is handed to `jose.jwtVerify` unchanged, so
 *   jose decides and refuses with its own error.
 * The caller has already checked the token's canonical form (three canonical base64url segments). A caller that has
 * already decoded the header (strict UTF-8, `JSON.parse`, a plain object: `parseWellFormed`) passes it as
 * `parsedHeader` so it is not decoded twice; it must be the parse of exactly this token's first segment.
 */
export interface NodeVerifyOptions extends jose.JWTVerifyOptions {
  algorithms: string[];
}

interface Spec {
  /** node:crypto digest name. */
  digest: string;
  /** What jose requires of the CryptoKey for this algorithm. */
  name: string;
  hash?: string;
  namedCurve?: string;
  /** RSA-PSS salt length in bytes. */
  saltLength?: number;
}

const SPECS: Record<string, Spec> = {
  RS256: { digest: 'sha256', name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  RS384: { digest: 'sha384', name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' },
  RS512: { digest: 'sha512', name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' },
  PS256: { digest: 'sha256', name: 'RSA-PSS', hash: 'SHA-256', saltLength: 32 },
  PS384: { digest: 'sha384', name: 'RSA-PSS', hash: 'SHA-384', saltLength: 48 },
  PS512: { digest: 'sha512', name: 'RSA-PSS', hash: 'SHA-512', saltLength: 64 },
  ES256: { digest: 'sha256', name: 'ECDSA', namedCurve: 'P-256' },
  ES384: { digest: 'sha384', name: 'ECDSA', namedCurve: 'P-384' },
  ES512: { digest: 'sha512', name: 'ECDSA', namedCurve: 'P-521' },
};

/** WebCrypto's key type (lib.dom is not loaded in this project). */
type WebCryptoKey = { type: string; usages: string[]; algorithm: { name: string; hash?: { name: string }; namedCurve?: string; modulusLength?: number } };
const CryptoKeyClass = (globalThis as unknown as { CryptoKey: abstract new () => WebCryptoKey }).CryptoKey;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** `{"alg":"none"}`: the claims are handed to jose's unsecured-JWT decoder only after the signature is verified. */
const NONE_HEADER = Buffer.from('{"alg":"none"}').toString('base64url');
/** One KeyObject per imported CryptoKey (jose imports each JWKS key once per algorithm). */
const keyObjects = new WeakMap<object, KeyObject>();

function parseHeader(segment: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(strictUtf8.decode(Buffer.from(segment, 'base64url')));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.getPrototypeOf(parsed) !== Object.prototype) return undefined;
    return parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function usableKey(key: unknown, spec: Spec): key is WebCryptoKey {
  if (!(key instanceof CryptoKeyClass)) return false;
  const { algorithm } = key;
  return (
    key.type === 'public' &&
    key.usages.includes('verify') &&
    algorithm.name === spec.name &&
    (spec.hash === undefined || algorithm.hash?.name === spec.hash) &&
    (spec.namedCurve === undefined || algorithm.namedCurve === spec.namedCurve) &&
    (spec.name === 'ECDSA' || (typeof algorithm.modulusLength === 'number' && algorithm.modulusLength >= 2048))
  );
}

function keyObjectOf(key: WebCryptoKey): KeyObject {
  let object = keyObjects.get(key);
  if (object === undefined) {
    object = KeyObject.from(key as Parameters<typeof KeyObject.from>[0]);
    keyObjects.set(key, object);
  }
  return object;
}

export async function nodeJwtVerify(
  token: string,
  getKey: jose.JWTVerifyGetKey,
  options: NodeVerifyOptions,
  allowed: ReadonlySet<string>,
  parsedHeader?: Record<string, unknown>,
): Promise<jose.JWTVerifyResult> {
  const first = token.indexOf('.');
  const last = token.lastIndexOf('.');
  const encodedHeader = token.slice(0, first);
  const header = parsedHeader ?? parseHeader(encodedHeader);
  const alg = header?.alg;
  const spec = typeof alg === 'string' && allowed.has(alg) ? SPECS[alg] : undefined;
  if (header === undefined || spec === undefined || Object.hasOwn(header, 'crit')) return jose.jwtVerify(token, getKey, options);

  const encodedPayload = token.slice(first + 1, last);
  const signature = token.slice(last + 1);
  const key: unknown = await getKey(header as jose.CompactJWSHeaderParameters, { protected: encodedHeader, payload: encodedPayload, signature });
  if (!usableKey(key, spec)) return jose.jwtVerify(token, getKey, options);

  const input: VerifyKeyObjectInput = { key: keyObjectOf(key) };
  if (spec.saltLength !== undefined) {
    input.padding = constants.RSA_PKCS1_PSS_PADDING;
    input.saltLength = spec.saltLength;
  }
  if (spec.name === 'ECDSA') input.dsaEncoding = 'ieee-p1363';
  const valid = await verifyInBatch(() => cryptoVerify(spec.digest, Buffer.from(token.slice(0, last), 'latin1'), input, Buffer.from(signature, 'base64url')));
  if (!valid) throw new jose.errors.JWSSignatureVerificationFailed();
  const { payload } = jose.UnsecuredJWT.decode(`${NONE_HEADER}.${encodedPayload}.`, options);
  return { payload, protectedHeader: header as jose.CompactJWSHeaderParameters };
}

interface SignatureCheck {
  run: () => boolean;
  resolve: (valid: boolean) => void;
  reject: (error: unknown) => void;
}

let pending: SignatureCheck[] = [];

/** Runs every queued signature check, then settles them all: their callers continue one after another. */
function runPending(): void {
  const checks = pending;
  pending = [];
  const outcomes: Array<boolean | { cause: unknown }> = [];
  for (const check of checks) {
    try {
      outcomes.push(check.run());
    } catch (cause) {
      outcomes.push({ cause });
    }
  }
  checks.forEach((check, i) => {
    const outcome = outcomes[i]!;
    if (typeof outcome === 'boolean') check.resolve(outcome);
    else check.reject(new jose.errors.JWSSignatureVerificationFailed(undefined, { cause: outcome.cause }));
  });
}

/**
 * The signature checks of all requests that reached this point in one turn of the event loop run together (in one
 * `setImmediate`), and only then do their callers go on to answer. Each check is the same synchronous
 * `crypto.verify`, with the same result; what changes is the order of work: N checks, then N responses written
 * back to back, instead of check, write, check, write. Measured on the bench's cold row (docs/benchmarks.md), this
 * cut the server's time in `writev` per request by about half — on loopback the kernel charges the sender for
 * delivering each response and waking the reader, and a reader woken once takes a burst — and the CPU per request
 * from ~67 to ~52 µs. No check is skipped, reordered across tokens' results or shared: each caller gets its own.
 */
function verifyInBatch(run: () => boolean): Promise<boolean> {
  return new Promise((resolve, reject) => {
    if (pending.length === 0) setImmediate(runPending);
    pending.push({ run, resolve, reject });
  });
}
