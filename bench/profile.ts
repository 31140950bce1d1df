/**
 * `npm run bench:profile`: Keygate under wrk load with `node --cpu-prof`, then the top self-time functions.
 * BENCH_PROFILE_SERVER (keygate; or a peer of bench/servers, e.g. fastify-jose); BENCH_PROFILE_TOKENS=1 (default) or 10000; BENCH_DURATION seconds (default 10); TOKEN_CACHE_SIZE passes through.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { makeFixture, writeFixture } from './lib/fixtures.js';
import { startFakeIssuer } from './lib/issuer.js';
import { runWrk, startServer } from './lib/proc.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const count = Number(process.env.BENCH_PROFILE_TOKENS ?? 1);
const seconds = Number(process.env.BENCH_DURATION ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'keygate-profile-'));
const issuer = await startFakeIssuer();
const fixture = makeFixture(issuer.issuer, count);
issuer.setJwks(fixture.jwks);
writeFixture(dir, fixture);
const env: Record<string, string> = { BENCH_FIXTURE: dir };
if (process.env.TOKEN_CACHE_SIZE !== undefined) env.TOKEN_CACHE_SIZE = process.env.TOKEN_CACHE_SIZE;
const serverName = process.env.BENCH_PROFILE_SERVER ?? 'keygate';
const server = await startServer(serverName, env, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
const check = await fetch(`http://127.0.0.1:${server.port}/protected`, { headers: { authorization: `Bearer ${fixture.tokens[0]}` } });
if (check.status !== 200) throw new Error(`Keygate answered ${check.status}: ${await check.text()}`);
const tokensFile = join(dir, count === 1 ? 'token1.txt' : 'tokens.txt');
await runWrk(server.port, tokensFile, 2, 50);
const result = await runWrk(server.port, tokensFile, seconds, 50);
await server.stop();
await issuer.close();

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
console.log(`${serverName}, ${count} token(s), TOKEN_CACHE_SIZE=${process.env.TOKEN_CACHE_SIZE ?? '(default)'}: ${result.rps.toFixed(0)} req/s under --cpu-prof, ${result.statusErrors} non-2xx`);
console.log('self time  function');
for (const [name, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.BENCH_PROFILE_TOP ?? 30))) {
  console.log(`${((100 * hits) / total).toFixed(1).padStart(8)}%  ${name}`);
}
rmSync(dir, { recursive: true, force: true });
