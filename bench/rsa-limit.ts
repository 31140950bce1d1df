/**
 * The cost of one RS256 signature check (RSA-2048, SHA-256) with a cached KeyObject, the floor of any cold
 * verification: `node:crypto.verify` on the bench's own tokens, one at a time, CPU time (user + system) per check.
 * Run by bench/run.ts pinned to the servers' core, in every round: BENCH_FIXTURE (the fixture directory),
 * RSA_CHECKS (3000). Prints one line: RSA_JSON {"cpuUs":…,"wallUs":…,"checks":…}.
 */
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { readFixture } from './lib/fixtures.js';

const dir = process.env.BENCH_FIXTURE;
if (!dir) throw new Error('BENCH_FIXTURE is not set');
const fixture = readFixture(dir);
const key = createPublicKey({ key: fixture.jwks.keys[0] as JsonWebKey, format: 'jwk' });
const checks = Number(process.env.RSA_CHECKS ?? 3000);
const tokens = fixture.tokens;

const check = (token: string) => {
  const dot = token.lastIndexOf('.');
  if (!verify('sha256', Buffer.from(token.slice(0, dot)), key, Buffer.from(token.slice(dot + 1), 'base64url'))) throw new Error('bad signature');
};
for (let i = 0; i < 300; i++) check(tokens[i % tokens.length]!); // warm-up
const cpu = process.cpuUsage();
const start = process.hrtime.bigint();
for (let i = 0; i < checks; i++) check(tokens[i % tokens.length]!);
const wallUs = Number(process.hrtime.bigint() - start) / 1000;
const used = process.cpuUsage(cpu);
process.stdout.write(`RSA_JSON ${JSON.stringify({ cpuUs: (used.user + used.system) / checks, wallUs: wallUs / checks, checks })}\n`);
