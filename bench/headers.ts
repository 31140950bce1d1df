/**
 * `npm run bench:headers`: the price of each security header on an API answer. Bare Fastify (the ceiling's route,
 * one token) with no security header, with all of Keygate's, and with all but one, for each one; rows alternated
 * round by round, server on core 0 and wrk on core 1. A header's price is the server CPU time per request of "all"
 * minus "all but it", the median of the per-round differences (paired, so a round's load cancels out). Also the
 * API set (`apiSecurityHeaders`, what JSON answers carry).
 * HEADERS_ROUNDS (5), BENCH_DURATION seconds (4), BENCH_WARMUP seconds (1), BENCH_CONNECTIONS (50).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiSecurityHeaders, securityHeaders } from '../src/http/headers.js';
import { makeFixture, writeFixture } from './lib/fixtures.js';
import { startFakeIssuer } from './lib/issuer.js';
import { runWrk, startServer } from './lib/proc.js';
import { median } from './lib/report.js';

const ROUNDS = Number(process.env.HEADERS_ROUNDS ?? 5);
const DURATION = Number(process.env.BENCH_DURATION ?? 4);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

const dir = mkdtempSync(join(tmpdir(), 'keygate-headers-'));
const issuer = await startFakeIssuer();
const fixture = makeFixture(issuer.issuer, 1);
issuer.setJwks(fixture.jwks);
writeFixture(dir, fixture);
const all = securityHeaders({ issuerUrl: fixture.issuer, secure: true });
const names = Object.keys(all);
const api = apiSecurityHeaders({ secure: true });
const sets: Array<{ id: string; headers: string[]; env?: Record<string, string> }> = [
  { id: 'none', headers: [] },
  { id: 'all', headers: names },
  { id: 'api set', headers: Object.keys(api), env: { BENCH_HEADER_SET: 'api' } },
  ...names.map((name) => ({ id: `all but ${name}`, headers: names.filter((n) => n !== name) })),
];
const cpu = new Map<string, number[]>();
const rps = new Map<string, number[]>();
console.error(`headers: ${sets.length} sets × ${ROUNDS} rounds × ${DURATION} s (about ${Math.ceil((sets.length * ROUNDS * (DURATION + WARMUP + 1)) / 60)} min)`);
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const set of sets) {
      const server = await startServer('fastify-headers', { BENCH_FIXTURE: dir, BENCH_HEADERS: set.headers.join(','), ...set.env });
      try {
        const tokens = join(dir, 'token1.txt');
        await runWrk(server.port, tokens, WARMUP, CONNECTIONS);
        const before = server.cpuUs();
        const result = await runWrk(server.port, tokens, DURATION, CONNECTIONS);
        if (result.statusErrors > 0 || result.socketErrors > 0) throw new Error(`${set.id}: errors under load`);
        const us = (server.cpuUs() - before) / result.requests;
        cpu.set(set.id, [...(cpu.get(set.id) ?? []), us]);
        rps.set(set.id, [...(rps.get(set.id) ?? []), result.rps]);
        console.error(`  round ${round}  ${set.id.padEnd(44)} ${result.rps.toFixed(0).padStart(7)} req/s  ${us.toFixed(2)} µs CPU/req`);
      } finally {
        await server.stop();
      }
    }
  }
} finally {
  await issuer.close();
  rmSync(dir, { recursive: true, force: true });
}

const differences = (a: string, b: string) => cpu.get(a)!.map((v, i) => v - cpu.get(b)![i]!);
/** Median over rounds of a − b, round by round. */
const paired = (a: string, b: string) => median(differences(a, b));
/** The spread of those differences: the noise of that figure. */
const spread = (a: string, b: string) => `${Math.min(...differences(a, b)).toFixed(2)} to ${Math.max(...differences(a, b)).toFixed(2)}`;
const bytes = (name: string) => Buffer.byteLength(`${name}: ${all[name]}\r\n`);
const lines = [
  `Security headers on an API answer (bare Fastify, one token), ${ROUNDS} rounds × ${DURATION} s, ${new Date().toISOString()}`,
  '',
  '| set | req/s median | CPU µs/req median |',
  '|---|---|---|',
  ...sets.map((s) => `| ${s.id} | ${Math.round(median(rps.get(s.id)!)).toLocaleString('en')} | ${median(cpu.get(s.id)!).toFixed(2)} |`),
  '',
  `All ${names.length} headers (${names.reduce((n, h) => n + bytes(h), 0)} bytes): +${paired('all', 'none').toFixed(2)} µs CPU per request over none (median of per-round differences; they ranged ${spread('all', 'none')}).`,
  `The API set, ${Object.keys(api).length} headers (${Object.entries(api).reduce((n, [h, v]) => n + Buffer.byteLength(`${h}: ${v}\r\n`), 0)} bytes): +${paired('api set', 'none').toFixed(2)} µs over none, ${paired('all', 'api set').toFixed(2)} µs less than all.`,
  '',
  '| header | bytes on the wire | price: all − all but it, µs CPU/req | per-round differences |',
  '|---|---|---|---|',
  ...names.map((name) => `| ${name} | ${bytes(name)} | ${paired('all', `all but ${name}`).toFixed(2)} | ${spread('all', `all but ${name}`)} |`),
];
console.log(lines.join('\n'));
