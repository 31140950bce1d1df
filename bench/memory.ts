/**
 * Memory per live session in the MemoryStore: `node --expose-gc --import tsx bench/memory.ts [count]`.
 * Sessions look like the development provider's: an RS256 ID token of realistic size as the API token, a random id,
 * its token key, e-mail, name. Prints one JSON line: heapUsed delta / count after a full GC on both sides.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { MemoryStore } from '../src/session/memory.js';
import { tokenKey } from '../src/token/verifier.js';
import { signRs256 } from './lib/fixtures.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const count = Number(process.argv[2] ?? 100_000);
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const issuer = 'http://localhost:5000/idp';
const now = Date.now();
const iat = Math.floor(now / 1000);
// A realistic template (claims of the dev provider's ID token); each session gets its own copy of the string.
const template = signRs256(privateKey, {
  iss: issuer, aud: 'keygate-dev', sub: 'alice-0000000000', email: 'alice@example.com', email_verified: true,
  nonce: randomBytes(32).toString('base64url'), at_hash: randomBytes(16).toString('base64url'), sid: randomBytes(16).toString('base64url'),
  auth_time: iat, iat, exp: iat + 3600,
});

const store = new MemoryStore({ maxEntries: count * 2, sweepIntervalMs: 0 });
gc();
gc();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < count; i++) {
  // A distinct string per session, as tokens from the wire are (never a shared constant).
  const apiToken = `${template.slice(0, -8)}${String(i).padStart(8, '0')}`;
  await store.create({
    id: randomBytes(32).toString('base64url'),
    sub: `user-${String(i).padStart(10, '0')}`,
    email: `user${i}@example.com`,
    emailVerified: true,
    name: `User ${i}`,
    apiToken,
    tokenKind: 'id_token',
    tokenKey: tokenKey(apiToken),
    createdAt: now,
    expiresAt: now + 3_600_000,
  });
}
gc();
gc();
const after = process.memoryUsage().heapUsed;
const stats = await store.stats();
if (stats.sessions !== count) throw new Error(`expected ${count} sessions, the store holds ${stats.sessions}`);
process.stdout.write(`${JSON.stringify({ count, tokenChars: template.length, bytesPerSession: (after - before) / count })}\n`);
await store.close();
