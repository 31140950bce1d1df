import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';

/**
 * Hand-built compact JWS for hostile tests: every byte of the header and payload is under the test's control,
 * and the signing key can be anything (the provider's key, an attacker's key, a secret, the public key as HMAC
 * secret, no key at all). Nothing here goes through jose, so jose's own checks are what the tests exercise.
 */
export type Json = Record<string, unknown>;

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Public JWK with kid, alg and use: sig. */
  jwk: Json;
}

export function b64u(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

/** An RSA (default 2048 bits), EC P-256 or Ed25519 key pair with its public JWK. */
export function makeKey(kid: string, alg = 'RS256', modulusLength = 2048): SigningKey {
  const pair =
    alg.startsWith('ES') ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : alg === 'EdDSA' ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('rsa', { modulusLength });
  const jwk = { ...(pair.publicKey.export({ format: 'jwk' }) as Json), kid, alg, use: 'sig' };
  return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk };
}

export type Signer =
  | { key: SigningKey }
  | { hmac: Uint8Array | string }
  | { none: true }
  | { signature: string };

const HASH: Record<string, string> = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };

/** Signs `input` (the ASCII of `header.payload`) for the header's `alg`. */
export function signInput(alg: string, input: string, signer: Signer): string {
  if ('none' in signer) return '';
  if ('signature' in signer) return signer.signature;
  const bits = alg.slice(2);
  const hash = HASH[bits] ?? 'sha256';
  if ('hmac' in signer) return createHmac(hash, signer.hmac).update(input).digest('base64url');
  const key = signer.key.privateKey;
  if (alg.startsWith('PS')) return cryptoSign(hash, Buffer.from(input), { key, padding: 6, saltLength: Number(bits) / 8 }).toString('base64url');
  if (alg.startsWith('ES')) return cryptoSign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  if (alg === 'EdDSA') return cryptoSign(null, Buffer.from(input), key).toString('base64url');
  return cryptoSign(hash, Buffer.from(input), key).toString('base64url');
}

export interface JwsParts {
  /** A header object, or the exact header bytes (for duplicate members, invalid UTF-8…). */
  header: Json | Uint8Array | string;
  payload: Json | Uint8Array | string;
  signer: Signer;
  /** alg used to pick the signing function when the header is raw bytes. */
  alg?: string;
}

export function jws(parts: JwsParts): string {
  const h = typeof parts.header === 'object' && !(parts.header instanceof Uint8Array) ? JSON.stringify(parts.header) : parts.header;
  const p = typeof parts.payload === 'object' && !(parts.payload instanceof Uint8Array) ? JSON.stringify(parts.payload) : parts.payload;
  const input = `${b64u(h)}.${b64u(p)}`;
  const alg = parts.alg ?? (typeof parts.header === 'object' && !(parts.header instanceof Uint8Array) ? String(parts.header.alg) : 'RS256');
  return `${input}.${signInput(alg, input, parts.signer)}`;
}

/** The key material an attacker would feed to HMAC when the verifier confuses algorithms. */
export function publicKeyForms(key: SigningKey): { pem: string; der: Buffer; jwk: string } {
  const pem = key.publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const der = key.publicKey.export({ format: 'der', type: 'spki' });
  return { pem, der, jwk: JSON.stringify(key.jwk) };
}

/** A DER-encoded ECDSA signature (what OpenSSL returns by default) instead of JWS's raw r‖s. */
export function derSignature(key: SigningKey, input: string): string {
  return cryptoSign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'der' }).toString('base64url');
}

export { createPrivateKey, createPublicKey };
