/**
 * `node --import tsx bench/verify-micro.ts`: the cold cost of one RS256 verification, in-process, no HTTP.
 * jose.jwtVerify (WebCrypto) against node:crypto.verify with a cached KeyObject plus JSON parsing of the claims.
 */
import { createPublicKey, verify } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as jose from 'jose';
import { makeFixture } from './lib/fixtures.js';

const N = Number(process.env.MICRO_TOKENS ?? 3000);
const fixture = makeFixture('https://issuer.bench.example/', N);
const jwks = jose.createLocalJWKSet(fixture.jwks as jose.JSONWebKeySet);
const keyObject = createPublicKey({ key: fixture.jwks.keys[0] as import('node:crypto').JsonWebKey, format: 'jwk' });
const options = { issuer: fixture.issuer, audience: fixture.audience, algorithms: ['RS256'] };

async function timeIt(label: string, concurrency: number, fn: (token: string) => Promise<unknown> | unknown): Promise<void> {
  for (const t of fixture.tokens.slice(0, 200)) await fn(t); // warm-up
  const start = performance.now();
  for (let i = 0; i < N; i += concurrency) await Promise.all(fixture.tokens.slice(i, i + concurrency).map((t) => fn(t)));
  const ms = performance.now() - start;
  console.log(`${label.padEnd(52)} ${(N / (ms / 1000)).toFixed(0).padStart(7)} verifications/s  ${((ms * 1000) / N).toFixed(1)} µs each`);
}

const nodeVerify = (token: string) => {
  const dot = token.lastIndexOf('.');
  if (!verify('sha256', Buffer.from(token.slice(0, dot)), keyObject, Buffer.from(token.slice(dot + 1), 'base64url'))) throw new Error('bad signature');
  return JSON.parse(Buffer.from(token.slice(token.indexOf('.') + 1, dot), 'base64url').toString());
};
for (const c of [1, 50]) {
  await timeIt(`jose.jwtVerify (WebCrypto), concurrency ${c}`, c, (t) => jose.jwtVerify(t, jwks, options));
  await timeIt(`node:crypto.verify + KeyObject, concurrency ${c}`, c, nodeVerify);
}
