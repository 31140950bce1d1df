/**
 * `npm run bench:profile`: Keygate under wrk load with `node --cpu-prof`, then the top self-time functions.
 * Keygate runs as `npm start` runs it (the built CLI, memory store, REQUIRE_SESSION=false, provider mode against the
 * fake issuer; see bench/lib/keygate.ts). BENCH_PROFILE_SERVER (keygate; or a peer of bench/servers, e.g.
 * fastify-jose); BENCH_PROFILE_TOKENS=1 (default) or 10000; BENCH_DURATION seconds (default 10); TOKEN_CACHE_SIZE
 * passes through; BENCH_PROFILE_PATH (default /protected; /auth asks as nginx does); BENCH_PROFILE_UPSTREAM=1 runs
 * Keygate's reverse-proxy mode in front of the bench's trivial upstream (then BENCH_PROFILE_PATH is the proxied path, e.g.
 * /api/orders?id=7); BENCH_PROFILE_DIR keeps the .cpuprofile there (for Chrome DevTools) instead of deleting it.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFixture, writeFixture } from './lib/fixtures.js';
import { startFakeIssuer } from './lib/issuer.js';
import { buildCheckout, keygateEnv, startKeygateCli, type Checkout } from './lib/keygate.js';
import { runWrk, startServer } from './lib/proc.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const count = Number(process.env.BENCH_PROFILE_TOKENS ?? 1);
const seconds = Number(process.env.BENCH_DURATION ?? 10);
const path = process.env.BENCH_PROFILE_PATH ?? '/protected';
const dir = mkdtempSync(join(tmpdir(), 'keygate-profile-'));
const issuer = await startFakeIssuer();
const fixture = makeFixture(issuer.issuer, count);
issuer.setJwks(fixture.jwks);
writeFixture(dir, fixture);
const serverName = process.env.BENCH_PROFILE_SERVER ?? 'keygate';
const profileArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
const cacheSize = process.env.TOKEN_CACHE_SIZE;
// BENCH_PROFILE_UPSTREAM=1: Keygate's reverse-proxy mode (UPSTREAM) in front of the bench's trivial upstream, on wrk's core.
const upstream = process.env.BENCH_PROFILE_UPSTREAM === '1' ? await startServer('upstream', {}, [], 1) : undefined;
const upstreamEnv: Record<string, string> = upstream ? { UPSTREAM: `http://127.0.0.1:${upstream.port}` } : {};
// BENCH_PROFILE_PATH=/introspect: one introspection client (its per-client limit off, as in npm run bench).
const INTROSPECT = { id: 'bench-introspect', secret: 'bench-introspection-secret-0123456789abcdef' };
const introspectEnv: Record<string, string> = path === '/introspect' ? { INTROSPECTION_CLIENTS: `${INTROSPECT.id}:${INTROSPECT.secret}`, RATE_LIMIT_INTROSPECTION: 'off' } : {};
const wrkEnv: Record<string, string> = path === '/introspect' ? { BENCH_BASIC: `Basic ${Buffer.from(`${INTROSPECT.id}:${INTROSPECT.secret}`).toString('base64')}` } : {};
let server;
if (serverName === 'keygate') {
  const self: Checkout = { label: 'this', root: fileURLToPath(new URL('../', import.meta.url)) };
  buildCheckout(self);
  const variant = { store: 'memory' as const, requireSession: false, ...(cacheSize !== undefined ? { tokenCacheSize: Number(cacheSize) } : {}) };
  server = await startKeygateCli(self, { ...keygateEnv(fixture, self, variant, undefined), ...upstreamEnv, ...introspectEnv }, profileArgs);
} else {
  server = await startServer(serverName, { BENCH_FIXTURE: dir, ...(cacheSize !== undefined ? { TOKEN_CACHE_SIZE: cacheSize } : {}) }, profileArgs);
}
const tokensFile = join(dir, count === 1 ? 'token1.txt' : 'tokens.txt');
let result;
try {
  // Keygate must accept the token (wrk counts refusals, but a profile of refusals is not the one wanted).
  if (serverName === 'keygate' && !upstream) {
    const check = await fetch(`http://127.0.0.1:${server.port}/protected`, { headers: { authorization: `Bearer ${fixture.tokens[0]}` } });
    if (check.status !== 200) throw new Error(`Keygate answered ${check.status}: ${await check.text()}`);
  }
  await runWrk(server.port, tokensFile, 2, 50, path, wrkEnv);
  result = await runWrk(server.port, tokensFile, seconds, 50, path, wrkEnv);
} finally {
  // Also when wrk is missing or fails: the server must not outlive the profile run.
  await server.stop();
  await upstream?.stop();
  await issuer.close();
}

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('no .cpuprofile written');
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[] };
const self = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const hits = node.hitCount ?? 0;
  total += hits;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${relative(process.cwd(), url.replace(/^file:\/\//, '')).replace(/^node_modules\//, '')}:${lineNumber + 1}` : '';
  const name = `${functionName || '(anonymous)'} ${where}`.trim();
  self.set(name, (self.get(name) ?? 0) + hits);
}
console.log(`${serverName} ${path}, ${count} token(s), TOKEN_CACHE_SIZE=${process.env.TOKEN_CACHE_SIZE ?? '(default)'}: ${result.rps.toFixed(0)} req/s under --cpu-prof, ${result.statusErrors} non-2xx`);
console.log('self time  function');
for (const [name, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.BENCH_PROFILE_TOP ?? 30))) {
  console.log(`${((100 * hits) / total).toFixed(1).padStart(8)}%  ${name}`);
}
const keep = process.env.BENCH_PROFILE_DIR;
if (keep) {
  copyFileSync(join(dir, file), join(keep, file));
  console.log(`profile kept: ${join(keep, file)}`);
}
rmSync(dir, { recursive: true, force: true });
