import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'g1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

interface FieldKey {
  id: string;
  key: Buffer;
}

/**
 * AES-256-GCM for the tokens a shared store keeps (API token, ID token, refresh token), so that a dump of the store
 * yields no usable token. Keys derive from SECRET_KEY with HKDF; the first key encrypts, every key decrypts
 * (rotation). The additional data binds a ciphertext to its session and field, so values cannot be swapped.
 *
 * Format: `g1.<key id>.<iv>.<ciphertext>.<tag>`, base64url parts; the key id is a short hash of the derived key.
 */
export class FieldSealer {
  readonly #keys: FieldKey[];

  constructor(secrets: readonly string[], purpose = 'session store') {
    if (secrets.length === 0) throw new TypeError('at least one secret is required');
    this.#keys = secrets.map((secret) => {
      const key = Buffer.from(hkdfSync('sha256', secret, 'keygate', `keygate ${purpose}`, 32));
      return { id: createHash('sha256').update(key).digest('base64url').slice(0, 8), key };
    });
  }

  seal(plaintext: string, context: string): string {
    const { id, key } = this.#keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, id, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** Whether `sealed` names one of this sealer's keys (false: sealed under a SECRET_KEY this instance does not hold). */
  holdsKeyOf(sealed: string): boolean {
    const parts = sealed.split('.');
    return parts.length === 5 && parts[0] === VERSION && this.#keys.some((k) => k.id === parts[1]);
  }

  /** The plaintext, or undefined when the value is garbage, tampered, bound to another context or sealed with an unknown key. */
  open(sealed: string, context: string): string | undefined {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) return undefined;
    const [, id, iv, body, tag] = parts as [string, string, string, string, string];
    const candidates = [...this.#keys.filter((k) => k.id === id), ...this.#keys.filter((k) => k.id !== id)];
    for (const { key } of candidates) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        // try the next key
      }
    }
    return undefined;
  }
}
