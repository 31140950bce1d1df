/**
 * `node --import tsx bench/verifier-micro.ts`: Keygate's own cold verifier (`createTokenVerifier`: canonical form,
 * well-formedness, node:crypto signature, jose's claim checks, the token key), in-process, no HTTP, one call at a
 * time, against the bare node:crypto RSA check of the same tokens: the difference is Keygate's per-token work; and
 * jose.jwtVerify as the Fastify + jose peer calls it (WebCrypto, 50 in flight), for scale.
 * MICRO_TOKENS (3000), MICRO_ROUNDS (5); MICRO_SRC=/path/to/checkout/src measures another checkout's verifier.
 */
import { createPublicKey, verify } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as jose from 'jose';
import { makeFixture } from './lib/fixtures.js';

const N = Number(process.env.MICRO_TOKENS ?? 3000);
const ROUNDS = Number(process.env.MICRO_ROUNDS ?? 5);
const src = process.env.MICRO_SRC ? resolve(process.env.MICRO_SRC) : resolve(import.meta.dirname, '../src');
const { createTokenVerifier } = (await import(pathToFileURL(`${src}/token/verifier.ts`).href)) as typeof import('../src/token/verifier.js');
const fixture = makeFixture('https://issuer.bench.example/', N);
const keys = jose.createLocalJWKSet(fixture.jwks as jose.JSONWebKeySet);
const keyObject = createPublicKey({ key: fixture.jwks.keys[0] as import('node:crypto').JsonWebKey, format: 'jwk' });
const verifier = createTokenVerifier({ issuer: fixture.issuer, audience: fixture.audience, algorithms: ['RS256'], keys, clockTolerance: 30, maxTokenLifetime: 24 * 3600 });
const rsaOnly = (token: string) => {
  const dot = token.lastIndexOf('.');
  if (!verify('sha256', Buffer.from(token.slice(0, dot), 'latin1'), keyObject, Buffer.from(token.slice(dot + 1), 'base64url'))) throw new Error('bad signature');
};

const joseOptions = { issuer: fixture.issuer, audience: fixture.audience, algorithms: ['RS256'] };
const joseVerify = (token: string) => jose.jwtVerify(token, keys, joseOptions);

/** CPU time (every thread: WebCrypto's thread pool included) per call, `inFlight` calls at a time. */
async function cpuPerCall(fn: (token: string) => unknown, inFlight = 1): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < N; i += inFlight) await Promise.all(fixture.tokens.slice(i, i + inFlight).map((t) => fn(t)));
  const used = process.cpuUsage(start);
  return (used.user + used.system) / N;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
await cpuPerCall(verifier);
await cpuPerCall(rsaOnly);
await cpuPerCall(joseVerify, 50);
const full: number[] = [];
const rsa: number[] = [];
const joseCpu: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  full.push(await cpuPerCall(verifier));
  rsa.push(await cpuPerCall(rsaOnly));
  joseCpu.push(await cpuPerCall(joseVerify, 50));
}
console.log(`${src}: createTokenVerifier ${median(full).toFixed(1)} µs CPU per token, node:crypto RSA check alone ${median(rsa).toFixed(1)} µs, Keygate's own work ${(median(full) - median(rsa)).toFixed(1)} µs (median of ${ROUNDS} × ${N}); jose.jwtVerify (WebCrypto, 50 in flight) ${median(joseCpu).toFixed(1)} µs`);
