/**
 * `npm run bench`: Keygate side by side with the ceilings and the peers users would pick, on loopback, one table.
 *
 * Every verifying server does the same work: verify an RS256 token against the fake issuer's JWKS (iss, aud, exp),
 * one Map get for the session, the same JSON profile. Servers are pinned to core 0 and wrk to core 1 (taskset, when
 * there are two cores); rows are alternated A B C … A B C for BENCH_ROUNDS rounds; medians with min–max.
 *
 * Environment: BENCH_ROUNDS (3), BENCH_DURATION seconds per measurement (7), BENCH_WARMUP seconds (2),
 * BENCH_CONNECTIONS (50), BENCH_TOKENS distinct tokens of the rotating and cold scenarios (10000),
 * BENCH_ONLY (comma list of row ids, for development), BENCH_BASELINES (comma list of label=/path/to/checkout: adds
 * Keygate rows served from another checkout of Keygate with this bench copied into it, for before/after figures
 * measured in the same run).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFixture, sessionOf, writeFixture } from './lib/fixtures.js';
import { startFakeIssuer } from './lib/issuer.js';
import { freePort } from './lib/net.js';
import { hasWrk, PINNED, runWrk, startServer, track, type LoadResult } from './lib/proc.js';
import { redisStoreAvailable } from './lib/stores.js';
import { measureSessionMemory, measureStartup } from './lib/extras.js';

const num = (name: string, fallback: number) => {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a positive number, got "${value}"`);
  return n;
};
const ROUNDS = num('BENCH_ROUNDS', 3);
const DURATION = num('BENCH_DURATION', 7);
const WARMUP = num('BENCH_WARMUP', 2);
const CONNECTIONS = num('BENCH_CONNECTIONS', 50);
const TOKENS = num('BENCH_TOKENS', 10_000);
const ONLY = process.env.BENCH_ONLY?.split(',').filter(Boolean);

type Scenario = 'one' | 'rotating' | 'cold';
interface Row {
  id: string;
  label: string;
  server: string;
  env?: Record<string, string>;
  scenarios: Scenario[];
}

const SCENARIOS: Record<Scenario, string> = {
  one: 'one token',
  rotating: `${TOKENS.toLocaleString('en')} distinct tokens, rotating`,
  cold: 'cold: every verifier cache off, rotating tokens',
};

// --- set-up -------------------------------------------------------------------------------------------------------
if (!hasWrk()) {
  if (process.getuid?.() === 0) {
    console.error('bench: wrk is missing; installing it with apt-get');
    spawnSync('apt-get', ['install', '-y', '-qq', 'wrk'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  if (!hasWrk()) {
    console.error('bench: wrk is required (Debian: apt-get install wrk)');
    process.exit(1);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'keygate-bench-'));
const issuer = await startFakeIssuer();
console.error(`bench: signing ${TOKENS} RS256 tokens…`);
const fixture = makeFixture(issuer.issuer, TOKENS);
issuer.setJwks(fixture.jwks);
writeFixture(dir, fixture);
const tokenFiles: Record<Scenario, string> = { one: join(dir, 'token1.txt'), rotating: join(dir, 'tokens.txt'), cold: join(dir, 'tokens.txt') };

let redis: { process: ChildProcess; url: string } | undefined;
const rows: Row[] = [
  { id: 'node-http', label: 'bare node:http (ceiling, no verification)', server: 'node-http', scenarios: ['one'] },
  { id: 'fastify', label: 'bare Fastify (ceiling, no verification)', server: 'fastify-bare', scenarios: ['one'] },
  { id: 'express-bearer', label: 'Express + express-oauth2-jwt-bearer', server: 'express-bearer', scenarios: ['one', 'rotating'] },
  { id: 'fastify-jwt', label: 'Fastify + @fastify/jwt (cache on)', server: 'fastify-jwt', scenarios: ['one', 'rotating'] },
  { id: 'fastify-jwt-nocache', label: 'Fastify + @fastify/jwt (cache off)', server: 'fastify-jwt', env: { BENCH_PEER_CACHE: '0' }, scenarios: ['cold'] },
  { id: 'fastify-jose', label: 'Fastify + jose (no cache)', server: 'fastify-jose', scenarios: ['one', 'rotating', 'cold'] },
  { id: 'keygate', label: 'Keygate, memory store', server: 'keygate', scenarios: ['one', 'rotating'] },
  { id: 'keygate-nocache', label: 'Keygate, memory store, TOKEN_CACHE_SIZE=0', server: 'keygate', env: { TOKEN_CACHE_SIZE: '0' }, scenarios: ['cold'] },
];
if (redisStoreAvailable()) {
  const port = await freePort();
  // On wrk's core, so that Keygate's core does the same work as in the memory rows plus talking to Redis.
  const argv = ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const pinned = PINNED ? ['taskset', '-c', '1', ...argv] : argv;
  const child = spawn(pinned[0]!, pinned.slice(1), { stdio: 'ignore' });
  track(child);
  redis = { process: child, url: `redis://127.0.0.1:${port}` };
  await new Promise((r) => setTimeout(r, 300));
  const env = { BENCH_STORE: 'redis', REDIS_URL: redis.url };
  rows.push(
    { id: 'keygate-redis', label: 'Keygate, Redis store', server: 'keygate', env, scenarios: ['one', 'rotating'] },
    { id: 'keygate-redis-nocache', label: 'Keygate, Redis store, TOKEN_CACHE_SIZE=0', server: 'keygate', env: { ...env, TOKEN_CACHE_SIZE: '0' }, scenarios: ['cold'] },
  );
}
for (const entry of process.env.BENCH_BASELINES?.split(',').filter(Boolean) ?? []) {
  const [label, path] = entry.split('=') as [string, string | undefined];
  if (!path) throw new Error(`BENCH_BASELINES: expected label=/path, got "${entry}"`);
  const server = join(path, 'bench/servers/keygate.ts');
  rows.push(
    { id: `keygate@${label}`, label: `Keygate @ ${label}`, server, scenarios: ['one', 'rotating'] },
    { id: `keygate-nocache@${label}`, label: `Keygate @ ${label}, TOKEN_CACHE_SIZE=0`, server, env: { TOKEN_CACHE_SIZE: '0' }, scenarios: ['cold'] },
  );
}
const active = rows.filter((r) => !ONLY || ONLY.includes(r.id));

// --- measurement ----------------------------------------------------------------------------------------------------
interface Sample extends LoadResult {
  rss: number;
  /** Server CPU time per answered request, in microseconds: steadier than req/s on a machine shared with others. */
  cpuUsPerRequest: number;
}
const samples = new Map<string, Sample[]>();
const keyOf = (scenario: Scenario, row: Row) => `${scenario}/${row.id}`;
const expected = JSON.stringify(Object.entries({ ...sessionOf(0) }).sort());

async function measure(scenario: Scenario, row: Row): Promise<Sample> {
  const server = await startServer(row.server, { BENCH_FIXTURE: dir, ...row.env });
  try {
    // Same answer from everyone: the session's profile for token 0 (plus exp), 200.
    const response = await fetch(`http://127.0.0.1:${server.port}/protected`, { headers: { authorization: `Bearer ${fixture.tokens[0]}` } });
    const body = (await response.json()) as Record<string, unknown>;
    const { exp, ...rest } = body;
    if (response.status !== 200 || typeof exp !== 'number' || JSON.stringify(Object.entries(rest).sort()) !== expected) {
      throw new Error(`${row.id} answered ${response.status} ${JSON.stringify(body)}`);
    }
    await runWrk(server.port, tokenFiles[scenario], WARMUP, CONNECTIONS);
    const cpuBefore = server.cpuUs();
    const result = await runWrk(server.port, tokenFiles[scenario], DURATION, CONNECTIONS);
    const cpu = server.cpuUs() - cpuBefore;
    if (result.statusErrors > 0 || result.socketErrors > 0) {
      throw new Error(`${row.id} (${scenario}): ${result.statusErrors} non-2xx answers, ${result.socketErrors} socket errors`);
    }
    return { ...result, rss: server.rss(), cpuUsPerRequest: result.requests > 0 ? cpu / result.requests : 0 };
  } finally {
    await server.stop();
  }
}

const plan: Array<[Scenario, Row]> = [];
for (const scenario of Object.keys(SCENARIOS) as Scenario[]) for (const row of active) if (row.scenarios.includes(scenario)) plan.push([scenario, row]);
const estimate = Math.ceil((ROUNDS * plan.length * (DURATION + WARMUP + 2)) / 60);
console.error(`bench: ${plan.length} measurements × ${ROUNDS} rounds, ${DURATION} s each (about ${estimate} min); server on core 0, wrk on core 1: ${PINNED ? 'yes' : 'no (taskset or a second core missing)'}`);
let memory: Awaited<ReturnType<typeof measureSessionMemory>>;
let startup: Awaited<ReturnType<typeof measureStartup>>;
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [scenario, row] of plan) {
      const sample = await measure(scenario, row);
      const key = keyOf(scenario, row);
      samples.set(key, [...(samples.get(key) ?? []), sample]);
      console.error(`  round ${round}  ${scenario.padEnd(8)} ${row.id.padEnd(22)} ${sample.rps.toFixed(0).padStart(7)} req/s  p50 ${sample.p50Ms.toFixed(2)} ms  p99 ${sample.p99Ms.toFixed(2)} ms  ${sample.cpuUsPerRequest.toFixed(1)} µs CPU/req`);
    }
  }
  // Extras: memory per session, start-up time.
  console.error('bench: memory per session and start-up time…');
  memory = await measureSessionMemory(100_000);
  startup = await measureStartup(issuer.issuer);
} finally {
  if (redis) redis.process.kill('SIGTERM');
  await issuer.close();
  rmSync(dir, { recursive: true, force: true });
}

// --- the table --------------------------------------------------------------------------------------------------------
const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const stat = (scenario: Scenario, id: string) => {
  const list = samples.get(`${scenario}/${id}`);
  if (!list) return undefined;
  const rps = list.map((s) => s.rps);
  return {
    rps: median(rps),
    min: Math.min(...rps),
    max: Math.max(...rps),
    p50: median(list.map((s) => s.p50Ms)),
    p99: median(list.map((s) => s.p99Ms)),
    rss: median(list.map((s) => s.rss)),
    cpu: median(list.map((s) => s.cpuUsPerRequest)),
  };
};
const ceiling = stat('one', 'fastify')?.rps;
const fmt = (n: number) => Math.round(n).toLocaleString('en');
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}×` : '—');

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const lines: string[] = [];
lines.push(`Keygate bench — ${new Date().toISOString()} — ${cpus().length} cores (${cpu}), Node ${process.version}`);
lines.push(`${ROUNDS} rounds × ${DURATION} s (+${WARMUP} s warm-up), ${CONNECTIONS} connections, wrk -t1; server pinned to core 0, wrk to core 1: ${PINNED ? 'yes' : 'no'}`);
lines.push('');
lines.push('| scenario | server | req/s median (min–max) | p50 ms | p99 ms | RSS MB | CPU µs/req | × bare Fastify |');
lines.push('|---|---|---|---|---|---|---|---|');
for (const scenario of Object.keys(SCENARIOS) as Scenario[]) {
  for (const row of active) {
    const s = stat(scenario, row.id);
    if (!s) continue;
    lines.push(`| ${SCENARIOS[scenario]} | ${row.label} | ${fmt(s.rps)} (${fmt(s.min)}–${fmt(s.max)}) | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${(s.rss / 2 ** 20).toFixed(0)} | ${s.cpu.toFixed(1)} | ${ratio(s.rps, ceiling)} |`);
  }
}
lines.push('');
lines.push('Keygate against each peer (same scenario, same run):');
lines.push('');
lines.push('| scenario | Keygate row | vs node:http | vs Express + oauth2-jwt-bearer | vs @fastify/jwt | vs Fastify + jose |');
lines.push('|---|---|---|---|---|---|');
for (const scenario of Object.keys(SCENARIOS) as Scenario[]) {
  for (const row of active.filter((r) => r.id.startsWith('keygate'))) {
    const k = stat(scenario, row.id)?.rps;
    if (k === undefined) continue;
    const jwt = stat(scenario, scenario === 'cold' ? 'fastify-jwt-nocache' : 'fastify-jwt')?.rps;
    const express = stat(scenario === 'cold' ? 'rotating' : scenario, 'express-bearer')?.rps;
    lines.push(`| ${SCENARIOS[scenario]} | ${row.label} | ${ratio(k, stat('one', 'node-http')?.rps)} | ${ratio(k, express)} | ${ratio(k, jwt)} | ${ratio(k, stat(scenario, 'fastify-jose')?.rps)} |`);
  }
}

// --- the targets ------------------------------------------------------------------------------------------------
const targets: string[] = [];
const target = (name: string, value: number | undefined, goal: number, unit: string, lower = false, cpuRatio?: number) => {
  if (value === undefined || !Number.isFinite(value)) {
    targets.push(`- ${name}: not measured`);
    return;
  }
  const met = lower ? value <= goal : value >= goal;
  // The same ratio from CPU time per request (inverse): what req/s would give on an otherwise idle core.
  const cpu = cpuRatio !== undefined && Number.isFinite(cpuRatio) ? `; by CPU time per request ${cpuRatio.toFixed(2)}×` : '';
  targets.push(`- ${name}: ${value.toFixed(2)}${unit} (target ${lower ? '≤' : '≥'} ${goal}${unit}) — **${met ? 'met' : 'missed'}**${cpu}`);
};
/** b's CPU µs per request over a's: how many times cheaper a is than b. */
const cpuRatioOf = (a: { cpu: number } | undefined, b: { cpu: number } | undefined) => (a && b && a.cpu > 0 ? b.cpu / a.cpu : undefined);
const fastifyStat = stat('one', 'fastify');
for (const scenario of ['one', 'rotating'] as const) {
  const ks = stat(scenario, 'keygate');
  const k = ks?.rps;
  target(`${SCENARIOS[scenario]}: Keygate / bare Fastify`, k && ceiling ? k / ceiling : undefined, 0.7, '×', false, cpuRatioOf(ks, fastifyStat));
  const js = stat(scenario, 'fastify-jwt');
  target(`${SCENARIOS[scenario]}: Keygate / @fastify/jwt`, k && js ? k / js.rps : undefined, 1.4, '×', false, cpuRatioOf(ks, js));
}
const coldK = stat('cold', 'keygate-nocache');
const coldJose = stat('cold', 'fastify-jose');
target('cold: Keygate (TOKEN_CACHE_SIZE=0) / Fastify + jose', coldK && coldJose ? coldK.rps / coldJose.rps : undefined, 1.2, '×', false, cpuRatioOf(coldK, coldJose));
for (const scenario of ['one', 'rotating'] as const) {
  const r = stat(scenario, 'keygate-redis');
  const m = stat(scenario, 'keygate');
  target(`${SCENARIOS[scenario]}: Keygate Redis / Keygate memory`, r && m ? r.rps / m.rps : undefined, 0.6, '×', false, cpuRatioOf(r, m));
}
target(`memory per live session (MemoryStore, ${memory.count.toLocaleString('en')} sessions, heapUsed delta / count)`, memory.bytesPerSession / 1024, 1.5, ' KB', true);
target(`start-up to listening (provider mode, fake issuer, median of ${startup.runs}, node dist/cli/keygate.js)`, startup.medianMs / 1000, 1, ' s', true);

lines.push('');
lines.push('Targets:');
lines.push('');
lines.push(...targets);
console.log(lines.join('\n'));
