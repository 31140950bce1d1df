import { hkdfSync } from 'node:crypto';
import * as jose from 'jose';

/**
 * Sealed values (JWE, dir + A256GCM) for cookies that must stay secret and untampered, such as the login
 * transaction (PKCE verifier, nonce). Keys derive from SECRET_KEY; the first seals, all open (rotation).
 */
export class Sealer {
  readonly #keys: Uint8Array[];

  constructor(secrets: readonly string[], purpose: string) {
    if (secrets.length === 0) throw new TypeError('at least one secret is required');
    this.#keys = secrets.map((secret) => new Uint8Array(hkdfSync('sha256', secret, 'keygate', `keygate ${purpose}`, 32)));
  }

  async seal(payload: Record<string, unknown>, ttlSeconds: number): Promise<string> {
    return new jose.EncryptJWT(payload)
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .encrypt(this.#keys[0]!);
  }

  /** The payload, or undefined when the value is garbage, tampered, sealed with an unknown key, or expired. */
  async open(value: string | undefined): Promise<Record<string, unknown> | undefined> {
    if (value === undefined || value.length > 4096) return undefined;
    for (const key of this.#keys) {
      try {
        const { payload } = await jose.jwtDecrypt(value, key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
        return payload as Record<string, unknown>;
      } catch {
        // try the next key
      }
    }
    return undefined;
  }
}
