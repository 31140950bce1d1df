/**
 * `node --import tsx bench/sign-micro.ts`: the cost of one ES256 identity assertion, in-process, one at a time —
 * jose's `SignJWT` (WebCrypto on Node 20: a promise and a thread-pool job per signature), with a KeyObject and with a
 * CryptoKey imported once, against Keygate's signer (`src/edge/assertion.ts`: the JWS put together and signed by
 * node:crypto). Every assertion is signed for a new credential, so none comes from the signer's cache.
 */
import { generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as jose from 'jose';
import { createAssertionSigner } from '../src/edge/assertion.js';

const N = Number(process.env.MICRO_SIGNATURES ?? 5000);
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const cryptoKey = await crypto.subtle.importKey('jwk', privateKey.export({ format: 'jwk' }), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);

async function timeIt(label: string, fn: (i: number) => Promise<string> | string): Promise<void> {
  for (let i = 0; i < 200; i++) await fn(-1 - i); // warm-up
  const start = performance.now();
  for (let i = 0; i < N; i++) await fn(i);
  const ms = performance.now() - start;
  console.log(`${label.padEnd(44)} ${((ms * 1000) / N).toFixed(1).padStart(6)} µs a signature (${N} signatures)`);
}

const joseSign = (key: jose.CryptoKey | import('node:crypto').KeyObject) => (i: number) =>
  new jose.SignJWT({ email: 'ann@example.com' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k', typ: 'JWT' })
    .setIssuer('https://keygate.example')
    .setAudience('https://app.example')
    .setSubject(`user-${i}`)
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(key);
await timeIt('jose SignJWT, KeyObject', joseSign(privateKey));
await timeIt('jose SignJWT, CryptoKey imported once', joseSign(cryptoKey));
const signer = createAssertionSigner({ secretKeys: ['bench-secret-key-bench-secret-key-0123456789'], issuer: 'https://keygate.example', cacheSize: N + 1000 });
await timeIt("Keygate's signer (node:crypto)", (i) => signer.sign({ sub: `user-${i}`, email: 'ann@example.com', key: `key-${i}` }, 'https://app.example'));
