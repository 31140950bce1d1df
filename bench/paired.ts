/**
 * `npm run bench:paired`: a few servers started once and measured in turn, in short slices, many times over; the
 * figure of each is the median of its slices, and its ratio to the first is the median of slice-by-slice ratios.
 *
 * Why beside `npm run bench`: on a shared machine the speed of the CPU moves by a third or more over tens of seconds
 * (the RSA check of the same bench has read 32 µs and 46 µs minutes apart). The main bench starts a fresh server for
 * each 6-second measurement, so rows of one round are up to a minute apart and can land in different phases; here
 * neighbouring slices are a couple of seconds apart, so a slow phase slows both sides of a ratio alike.
 *
 * BENCH_PAIRED: comma list of server:path[:rotating] (default: bare Fastify at /protected, then Keygate at /auth,
 * one token and rotating). Servers: `keygate` (the built CLI, memory store, REQUIRE_SESSION=false, as the main
 * bench's keygate rows) or a peer of bench/servers. BENCH_SLICES (12), BENCH_SLICE_SECONDS (2), BENCH_TOKENS (10000,
 * the rotating set), BENCH_CONNECTIONS (50); BENCH_PAIRED_BASELINE=/path/to/other/checkout adds the server `baseline`,
 * that checkout's own built CLI with the same settings (e.g. `baseline:/auth`), for before/after figures. Needs wrk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFixture, writeFixture } from './lib/fixtures.js';
import { startFakeIssuer } from './lib/issuer.js';
import { buildCheckout, keygateEnv, startKeygateCli, type Checkout } from './lib/keygate.js';
import { hasWrk, runWrk, startServer, type RunningServer } from './lib/proc.js';
import { median } from './lib/report.js';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SLICES = num('BENCH_SLICES', 12);
const SECONDS = num('BENCH_SLICE_SECONDS', 2);
const TOKENS = num('BENCH_TOKENS', 10_000);
const CONNECTIONS = num('BENCH_CONNECTIONS', 50);
const specs = (process.env.BENCH_PAIRED ?? 'fastify-bare:/protected,keygate:/auth,keygate:/auth:rotating,keygate:/protected,keygate:/protected:rotating,fastify-auth-shape:/auth').split(',').map((spec) => {
  const [server, path, rotating] = spec.split(':');
  if (!server || !path?.startsWith('/') || (rotating !== undefined && rotating !== 'rotating')) throw new Error(`BENCH_PAIRED: "${spec}" is not server:/path[:rotating]`);
  return { spec, server, path, rotating: rotating !== undefined };
});
if (!hasWrk()) {
  console.error('bench:paired: wrk is required (Debian: apt-get install wrk; npm run bench installs it as root)');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'keygate-paired-'));
const issuer = await startFakeIssuer();
const fixture = makeFixture(issuer.issuer, TOKENS);
issuer.setJwks(fixture.jwks);
writeFixture(dir, fixture);
const self: Checkout = { label: 'this', root: fileURLToPath(new URL('../', import.meta.url)) };
const servers = new Map<string, RunningServer>();
try {
  for (const { server } of specs) {
    if (servers.has(server)) continue;
    const baseline = process.env.BENCH_PAIRED_BASELINE;
    const checkout: Checkout | undefined = server === 'keygate' ? self : server === 'baseline' && baseline ? { label: 'baseline', root: baseline } : undefined;
    if (checkout) {
      buildCheckout(checkout);
      servers.set(server, await startKeygateCli(checkout, keygateEnv(fixture, checkout, { store: 'memory', requireSession: false }, undefined)));
    } else servers.set(server, await startServer(server, { BENCH_FIXTURE: dir }));
  }
  const tokensOf = (rotating: boolean) => join(dir, rotating ? 'tokens.txt' : 'token1.txt');
  // Warm-up: every rotating token verified (and its assertion signed) before anything is measured.
  for (const { server, path, rotating } of specs) await runWrk(servers.get(server)!.port, tokensOf(rotating), rotating ? 4 : 2, CONNECTIONS, path);
  const rps = specs.map((): number[] => []);
  const cpu = specs.map((): number[] => []);
  console.error(`bench:paired: ${specs.length} servers × ${SLICES} slices of ${SECONDS} s (about ${Math.ceil((specs.length * SLICES * SECONDS) / 60)} min)`);
  for (let slice = 0; slice < SLICES; slice++) {
    for (const [i, { spec, server, path, rotating }] of specs.entries()) {
      const running = servers.get(server)!;
      const before = running.cpuUs();
      const result = await runWrk(running.port, tokensOf(rotating), SECONDS, CONNECTIONS, path);
      if (result.statusErrors > 0 || result.socketErrors > 0) throw new Error(`${spec}: ${result.statusErrors} non-2xx answers, ${result.socketErrors} socket errors`);
      rps[i]!.push(result.rps);
      cpu[i]!.push((running.cpuUs() - before) / result.requests);
    }
  }
  console.log(`${new Date().toISOString()} — ${SLICES} slices × ${SECONDS} s, ${CONNECTIONS} connections, Node ${process.version}; ratios: median of slice-by-slice ratios to the first row (min–max)`);
  console.log('| server and path | req/s median | CPU µs/req median | × first, by req/s | × first, by CPU time |');
  console.log('|---|---|---|---|---|');
  for (const [i, { spec }] of specs.entries()) {
    const byRps = rps[i]!.map((value, k) => value / rps[0]![k]!);
    const byCpu = cpu[i]!.map((value, k) => cpu[0]![k]! / value);
    const range = (values: number[]) => `${median(values).toFixed(2)}× (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`;
    console.log(`| ${spec} | ${Math.round(median(rps[i]!)).toLocaleString('en')} | ${median(cpu[i]!).toFixed(1)} | ${range(byRps)} | ${range(byCpu)} |`);
  }
} finally {
  for (const server of servers.values()) await server.stop();
  await issuer.close();
  rmSync(dir, { recursive: true, force: true });
}
