/**
 * `npm run bench`: Keygate side by side with the ceilings and the peers users would pick, on loopback, one table.
 *
 * Every verifying server does the same work: verify an RS256 token against the fake issuer's JWKS (iss, aud, exp),
 * one session or revocation lookup, the same JSON profile. Keygate runs as `npm start` runs it (bench/lib/keygate.ts).
 * Servers are pinned to core 0 and wrk to core 1 (taskset, when there are two cores); rows are alternated
 * A B C … A B C for BENCH_ROUNDS rounds; medians with min–max. Each round also times one RSA check on core 0, for
 * the cold limit (bare Fastify + one RSA check).
 *
 * The proxy rows put Keygate's reverse-proxy mode (the CLI with UPSTREAM) beside @fastify/http-proxy with no
 * authentication, both in front of the same trivial upstream (bench/servers/upstream.ts, on wrk's core).
 *
 * Environment: BENCH_ROUNDS (3), BENCH_DURATION seconds per measurement (6), BENCH_WARMUP seconds (2),
 * BENCH_CONNECTIONS (50), BENCH_TOKENS distinct tokens of the rotating and cold scenarios (10000),
 * BENCH_ONLY (comma list of row ids, for development), BENCH_BASELINES (comma list of label=/path/to/checkout: adds
 * Keygate rows served by another checkout's own built CLI, for before/after figures measured in the same run).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFixture, sessionOf, writeFixture } from './lib/fixtures.js';
import { startFakeIssuer } from './lib/issuer.js';
import { buildCheckout, cliOf, keygateEnv, seedRedis, startKeygateCli, type Checkout, type KeygateVariant } from './lib/keygate.js';
import { freePort } from './lib/net.js';
import { hasWrk, machineBusyUs, PINNED, processCpuUs, runWrk, startServer, track, type RunningServer } from './lib/proc.js';
import { measureRsaCheck, measureSessionMemory, measureStartup } from './lib/extras.js';
import { report, type ReportRow, type Sample, type Scenario } from './lib/report.js';

const num = (name: string, fallback: number) => {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a positive number, got "${value}"`);
  return n;
};
const ROUNDS = num('BENCH_ROUNDS', 3);
const DURATION = num('BENCH_DURATION', 6);
const WARMUP = num('BENCH_WARMUP', 2);
const CONNECTIONS = num('BENCH_CONNECTIONS', 50);
const TOKENS = num('BENCH_TOKENS', 10_000);
const ONLY = process.env.BENCH_ONLY?.split(',').filter(Boolean);
const INTROSPECT_CLIENT = { id: 'bench-introspect', secret: 'bench-introspection-secret-0123456789abcdef' };
const INTROSPECT_BASIC = `Basic ${Buffer.from(`${INTROSPECT_CLIENT.id}:${INTROSPECT_CLIENT.secret}`).toString('base64')}`;

interface Row extends ReportRow {
  scenarios: Scenario[];
  /** The route wrk calls: `/protected` unless set (`/auth`, with nginx's forwarding headers; `/introspect`, POST). */
  path?: string;
  /** Replaces the check of `/protected`'s answer before the measurement (the proxy rows answer the upstream's). */
  check?(port: number): Promise<void>;
  start(): Promise<RunningServer>;
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

const self: Checkout = { label: 'this', root: fileURLToPath(new URL('../', import.meta.url)) };
const baselines: Checkout[] = (process.env.BENCH_BASELINES?.split(',').filter(Boolean) ?? []).map((entry) => {
  const [label, root] = entry.split('=') as [string, string | undefined];
  if (!label || !root) throw new Error(`BENCH_BASELINES: expected label=/path, got "${entry}"`);
  return { label, root };
});
for (const checkout of [self, ...baselines]) {
  console.error(`bench: npm run build in ${checkout.root}`);
  buildCheckout(checkout);
}

const dir = mkdtempSync(join(tmpdir(), 'keygate-bench-'));
const issuer = await startFakeIssuer();
console.error(`bench: signing ${TOKENS} RS256 tokens…`);
const fixture = makeFixture(issuer.issuer, TOKENS);
issuer.setJwks(fixture.jwks);
writeFixture(dir, fixture);
const tokenFiles: Record<Scenario, string> = { one: join(dir, 'token1.txt'), rotating: join(dir, 'tokens.txt'), cold: join(dir, 'tokens.txt') };

const peer = (id: string, label: string, server: string, scenarios: Scenario[], env: Record<string, string> = {}): Row => ({
  id,
  label,
  scenarios,
  start: () => startServer(server, { BENCH_FIXTURE: dir, ...env }),
});
const rows: Row[] = [
  peer('node-http', 'bare node:http (ceiling, no verification)', 'node-http', ['one']),
  peer('fastify', 'bare Fastify (ceiling, no verification)', 'fastify-bare', ['one']),
  // What a forward-auth answer costs before any verification: the same request as Keygate's /auth rows, answered with
  // the same headers (for context: the /auth target is against bare Fastify, as /protected's).
  { ...peer('fastify-auth-shape', "bare Fastify answering /auth's request with /auth's headers (no verification)", 'fastify-auth-shape', ['one']), path: '/auth', check: (port) => checkAuth(port, { path: '/auth', id: 'fastify-auth-shape' }) },
  peer('express-bearer', 'Express + express-oauth2-jwt-bearer', 'express-bearer', ['one', 'rotating']),
  peer('fastify-jwt', 'Fastify + @fastify/jwt (cache on)', 'fastify-jwt', ['one', 'rotating']),
  peer('fastify-jwt-nocache', 'Fastify + @fastify/jwt (cache off)', 'fastify-jwt', ['cold'], { BENCH_PEER_CACHE: '0' }),
  peer('fastify-jose', 'Fastify + jose (no cache)', 'fastify-jose', ['one', 'rotating', 'cold']),
];

// The proxy rows: one trivial upstream for both, on wrk's core (as Redis), started only when a proxy row runs.
const PROXY_PATH = '/api/orders?id=7';
const PROXY_ROWS = ['http-proxy', 'keygate-proxy'];
const upstream = !ONLY || ONLY.some((id) => PROXY_ROWS.includes(id)) ? await startServer('upstream', {}, [], 1) : undefined;
const upstreamUrl = upstream ? `http://127.0.0.1:${upstream.port}` : '';
/** A proxy row answers the upstream's body for token 0, and (`authenticated`) refuses a request without a token. */
const proxyCheck = (id: string, authenticated: boolean) => async (port: number) => {
  const url = `http://127.0.0.1:${port}${PROXY_PATH}`;
  const response = await fetch(url, { headers: { authorization: `Bearer ${fixture.tokens[0]}` } });
  const body = await response.text();
  if (response.status !== 200 || body !== '{"upstream":true}') throw new Error(`${id} answered ${response.status} ${body.slice(0, 200)}`);
  if (authenticated) {
    const refused = await fetch(url);
    await refused.arrayBuffer();
    if (refused.status !== 401) throw new Error(`${id} let a request without a token through (${refused.status})`);
  }
};
if (upstream) rows.push({ ...peer('http-proxy', '@fastify/http-proxy, no authentication (ceiling of the proxy mode)', 'fastify-http-proxy', ['one', 'rotating'], { BENCH_UPSTREAM: upstreamUrl }), path: PROXY_PATH, check: proxyCheck('http-proxy', false) });

let redis: { process: ChildProcess; url: string } | undefined;
if (spawnSync('redis-server', ['--version']).status === 0) {
  const port = await freePort();
  // On wrk's core, so that Keygate's core does the same work as in the memory rows plus talking to Redis.
  const argv = ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const pinned = PINNED ? ['taskset', '-c', '1', ...argv] : argv;
  const child = spawn(pinned[0]!, pinned.slice(1), { stdio: 'ignore' });
  track(child);
  redis = { process: child, url: `redis://127.0.0.1:${port}` };
  await new Promise((r) => setTimeout(r, 300));
}
/** Redis rows by checkout: their sessions are seeded once, before the first round. */
const redisRows = new Map<Checkout, { env: Record<string, string>; ids: string[] }>();
for (const checkout of [self, ...baselines]) {
  const at = checkout === self ? '' : `@${checkout.label}`;
  const name = checkout === self ? 'Keygate' : `Keygate @ ${checkout.label}`;
  const keygate = (id: string, label: string, scenarios: Scenario[], variant: KeygateVariant): Row => {
    const env = keygateEnv(fixture, checkout, variant, redis?.url);
    if (variant.store === 'redis') redisRows.set(checkout, { env, ids: [...(redisRows.get(checkout)?.ids ?? []), `${id}${at}`] });
    return { id: `${id}${at}`, label: `${name}, ${label}`, scenarios, keygate: checkout === self ? 'main' : 'baseline', start: () => startKeygateCli(checkout, env) };
  };
  rows.push(
    keygate('keygate', 'memory store, REQUIRE_SESSION=false', ['one', 'rotating'], { store: 'memory', requireSession: false }),
    keygate('keygate-nocache', 'memory store, REQUIRE_SESSION=false, TOKEN_CACHE_SIZE=0', ['cold'], { store: 'memory', requireSession: false, tokenCacheSize: 0 }),
  );
  // Forward auth: the same server and token, asked at /auth as nginx asks (identity headers and a signed assertion).
  // RFC 7662 introspection: the same server and tokens, each POSTed to /introspect by an authenticated client (the
  // per-client limit off: 6000/1m, the default, is far below what wrk sends).
  if (checkout === self) {
    const variant = { store: 'memory', requireSession: false } as const;
    const env = { ...keygateEnv(fixture, checkout, variant, redis?.url), INTROSPECTION_CLIENTS: `${INTROSPECT_CLIENT.id}:${INTROSPECT_CLIENT.secret}`, RATE_LIMIT_INTROSPECTION: 'off' };
    rows.push({ ...keygate('keygate-introspect', 'POST /introspect, memory store, REQUIRE_SESSION=false', ['one', 'rotating'], variant), path: '/introspect', start: () => startKeygateCli(checkout, env) });
  }
  if (checkout === self) rows.push({ ...keygate('keygate-auth', '/auth (forward auth), memory store, REQUIRE_SESSION=false', ['one', 'rotating'], { store: 'memory', requireSession: false }), path: '/auth' });
  // Reverse-proxy mode: the CLI with UPSTREAM, as users start it, in front of the proxy rows' upstream.
  if (checkout === self && upstream) {
    const variant: KeygateVariant = { store: 'memory', requireSession: false };
    rows.push({
      ...keygate('keygate-proxy', 'reverse proxy (UPSTREAM), memory store, REQUIRE_SESSION=false', ['one', 'rotating'], variant),
      path: PROXY_PATH,
      check: proxyCheck('keygate-proxy', true),
      start: () => startKeygateCli(checkout, { ...keygateEnv(fixture, checkout, variant, redis?.url), UPSTREAM: upstreamUrl }),
    });
  }
  if (redis) {
    rows.push(
      keygate('keygate-redis', 'Redis store, REQUIRE_SESSION=true', ['one', 'rotating'], { store: 'redis', requireSession: true }),
      keygate('keygate-redis-nocache', 'Redis store, REQUIRE_SESSION=true, TOKEN_CACHE_SIZE=0', ['cold'], { store: 'redis', requireSession: true, tokenCacheSize: 0 }),
    );
    // Issue 12: what "last used" tracking costs /protected — the same Redis row with TRACK_LAST_USED=false.
    if (checkout === self) {
      const untracked = keygate('keygate-redis-untracked', 'Redis store, REQUIRE_SESSION=true, TRACK_LAST_USED=false', ['one', 'rotating'], { store: 'redis', requireSession: true });
      const env = { ...keygateEnv(fixture, checkout, { store: 'redis', requireSession: true }, redis.url), TRACK_LAST_USED: 'false' };
      rows.push({ ...untracked, start: () => startKeygateCli(checkout, env) });
    }
  }
}
const active = rows.filter((r) => !ONLY || ONLY.includes(r.id));
for (const [checkout, { env, ids }] of redisRows) {
  if (!active.some((r) => ids.includes(r.id))) continue;
  console.error(`bench: seeding ${TOKENS} sessions into Redis for ${checkout.label}`);
  await seedRedis(checkout, fixture, env);
}

// --- measurement ----------------------------------------------------------------------------------------------------
const samples = new Map<string, Sample[]>();
const rsaCpuUs: number[] = [];
const expected = JSON.stringify(Object.entries({ ...sessionOf(0) }).sort());

/** An introspection row answers active for token 0 with its subject, as wrk will ask. */
async function checkIntrospect(port: number): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/introspect`, {
    method: 'POST',
    headers: { authorization: INTROSPECT_BASIC, 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${fixture.tokens[0]}`,
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200 || body.active !== true || typeof body.sub !== 'string') throw new Error(`/introspect answered ${response.status} ${JSON.stringify(body)}`);
}

/** A forward-auth row answers 200 with the user and an assertion for token 0, as wrk will ask. */
async function checkAuth(port: number, row: Pick<Row, 'id' | 'path'>): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}${row.path}`, {
    headers: { authorization: `Bearer ${fixture.tokens[0]}`, 'x-original-uri': '/api/orders?id=7', 'x-forwarded-uri': '/api/orders?id=7', 'x-forwarded-host': 'app.example.test', 'x-forwarded-proto': 'https' },
  });
  await response.arrayBuffer();
  if (response.status !== 200 || !response.headers.get('x-auth-request-user') || !response.headers.get('x-keygate-assertion')) {
    throw new Error(`${row.id} answered ${response.status} without the identity headers`);
  }
}

async function measure(scenario: Scenario, row: Row): Promise<Sample> {
  const server = await row.start();
  try {
    if (row.check) await row.check(server.port);
    else {
      if (row.path === '/introspect') await checkIntrospect(server.port);
      else if (row.path !== undefined) await checkAuth(server.port, row);
      // Same answer from everyone: the session's profile for token 0 (plus exp), 200.
      const response = await fetch(`http://127.0.0.1:${server.port}/protected`, { headers: { authorization: `Bearer ${fixture.tokens[0]}` } });
      const body = (await response.json()) as Record<string, unknown>;
      const { exp, ...rest } = body;
      if (response.status !== 200 || typeof exp !== 'number' || JSON.stringify(Object.entries(rest).sort()) !== expected) {
        throw new Error(`${row.id} answered ${response.status} ${JSON.stringify(body)}`);
      }
    }
    const wrkEnv: Record<string, string> = row.path === '/introspect' ? { BENCH_BASIC: INTROSPECT_BASIC } : {};
    // "Rotating" is tokens seen before (the cold scenario is the other case): the warm-up goes on until every token was
    // sent once (wrk -t1 sends them in turn), at most 5 × WARMUP; a slow row (the proxy) was otherwise measured half cold.
    let warmed = 0;
    for (let i = 0; i < 5 && (i === 0 || (scenario === 'rotating' && warmed < TOKENS)); i++) {
      warmed += (await runWrk(server.port, tokenFiles[scenario], WARMUP, CONNECTIONS, row.path, wrkEnv)).requests;
    }
    // Everything the machine did meanwhile, less what the bench itself ran: the load of other people's processes.
    const own = () => server.cpuUs() + (redis ? processCpuUs(redis.process.pid!) : 0) + (upstream ? upstream.cpuUs() : 0) + process.cpuUsage().user + process.cpuUsage().system;
    const [cpuBefore, busyBefore, ownBefore, start] = [server.cpuUs(), machineBusyUs(), own(), performance.now()];
    const result = await runWrk(server.port, tokenFiles[scenario], DURATION, CONNECTIONS, row.path, wrkEnv);
    const cpu = server.cpuUs() - cpuBefore;
    const other = machineBusyUs() - busyBefore - (own() - ownBefore) - result.wrkCpuUs;
    if (result.statusErrors > 0 || result.socketErrors > 0) {
      throw new Error(`${row.id} (${scenario}): ${result.statusErrors} non-2xx answers, ${result.socketErrors} socket errors`);
    }
    const otherLoad = Math.max(0, other / ((performance.now() - start) * 1000));
    return { ...result, rss: server.rss(), cpuUsPerRequest: result.requests > 0 ? cpu / result.requests : 0, otherLoad };
  } finally {
    await server.stop();
  }
}

const plan: Array<[Scenario, Row]> = [];
for (const scenario of Object.keys(SCENARIOS) as Scenario[]) for (const row of active) if (row.scenarios.includes(scenario)) plan.push([scenario, row]);
const estimate = Math.ceil((ROUNDS * plan.length * (DURATION + WARMUP + 1.5)) / 60);
console.error(`bench: ${plan.length} measurements × ${ROUNDS} rounds, ${DURATION} s each (about ${estimate} min); server on core 0, wrk on core 1: ${PINNED ? 'yes' : 'no (taskset or a second core missing)'}`);
let memory: Awaited<ReturnType<typeof measureSessionMemory>>;
let startup: Awaited<ReturnType<typeof measureStartup>>;
const started = new Date();
try {
  for (let round = 1; round <= ROUNDS; round++) {
    const rsa = measureRsaCheck(dir);
    rsaCpuUs.push(rsa.cpuUs);
    console.error(`  round ${round}  one RSA check: ${rsa.cpuUs.toFixed(1)} µs CPU, ${rsa.wallUs.toFixed(1)} µs wall`);
    for (const [scenario, row] of plan) {
      const sample = await measure(scenario, row);
      const key = `${scenario}/${row.id}`;
      samples.set(key, [...(samples.get(key) ?? []), sample]);
      console.error(`  round ${round}  ${scenario.padEnd(8)} ${row.id.padEnd(28)} ${sample.rps.toFixed(0).padStart(7)} req/s  p50 ${sample.p50Ms.toFixed(2)} ms  p99 ${sample.p99Ms.toFixed(2)} ms  ${sample.cpuUsPerRequest.toFixed(1)} µs CPU/req  others' load ${(100 * sample.otherLoad).toFixed(0)}% of a core`);
    }
  }
  console.error('bench: memory per session and start-up time…');
  memory = await measureSessionMemory(100_000);
  startup = await measureStartup(issuer.issuer, cliOf(self));
} finally {
  if (redis) redis.process.kill('SIGTERM');
  await upstream?.stop();
  await issuer.close();
  rmSync(dir, { recursive: true, force: true });
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  report({
    heading: [
      `Keygate bench — ${started.toISOString()} to ${new Date().toISOString()} — ${cpus().length} cores (${cpu}), Node ${process.version}`,
      `${ROUNDS} rounds × ${DURATION} s (+${WARMUP} s warm-up), ${CONNECTIONS} connections, wrk -t1; server pinned to core 0, wrk to core 1: ${PINNED ? 'yes' : 'no'}`,
      'Keygate rows: node dist/cli/keygate.js (npm start), provider mode against the fake issuer, configured by environment only',
    ],
    scenarios: SCENARIOS,
    rows: active,
    samples,
    rsaCpuUs,
    memory,
    startup,
  }),
);
