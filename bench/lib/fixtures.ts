/**
 * Bench fixtures: one RSA key pair, its JWKS, RS256 tokens signed with node:crypto (fast enough for 10,000),
 * and the session each token belongs to. Written to a directory the servers and wrk read.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const AUDIENCE = 'https://api.bench.example';
export const CLIENT_ID = 'bench-client';
export const KID = 'bench-key-1';

export interface Fixture {
  issuer: string;
  audience: string;
  jwks: { keys: Record<string, unknown>[] };
  /** Token i belongs to user i. */
  tokens: string[];
}

/** The session every peer looks up (a Map get by `sub`) and the profile it answers. */
export interface BenchSession {
  sub: string;
  email: string;
  email_verified: boolean;
  name: string;
}

export function sessionOf(i: number): BenchSession {
  return { sub: `user-${i}`, email: `user-${i}@example.com`, email_verified: true, name: `User ${i}` };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function signRs256(key: KeyObject, claims: Record<string, unknown>, kid = KID): string {
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

/** Makes the key, JWKS and `count` tokens valid for `lifetimeS` seconds from now. */
export function makeFixture(issuer: string, count: number, lifetimeS = 3 * 3600): Fixture {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' };
  const iat = Math.floor(Date.now() / 1000) - 5;
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const s = sessionOf(i);
    tokens.push(signRs256(privateKey, { iss: issuer, aud: AUDIENCE, sub: s.sub, email: s.email, email_verified: true, name: s.name, iat, exp: iat + lifetimeS }));
  }
  return { issuer, audience: AUDIENCE, jwks: { keys: [jwk] }, tokens };
}

export function writeFixture(dir: string, fixture: Fixture): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'fixture.json'), JSON.stringify(fixture));
  // One token per line for wrk's Lua script.
  writeFileSync(join(dir, 'tokens.txt'), `${fixture.tokens.join('\n')}\n`);
  writeFileSync(join(dir, 'token1.txt'), `${fixture.tokens[0]}\n`);
}

export function readFixture(dir: string): Fixture {
  return JSON.parse(readFileSync(join(dir, 'fixture.json'), 'utf8')) as Fixture;
}
