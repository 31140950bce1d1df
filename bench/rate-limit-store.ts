/**
 * `node --import tsx bench/rate-limit-store.ts`: the shared rate limit's cost on `/protected`, with a real
 * redis-server, for the choice in docs/deploy.md ("A public edge"). The same trivial `/protected` route behind:
 *   none     — no limiter (the ceiling);
 *   local    — Keygate's limiter counting per process (before this change: N instances, N times the limit);
 *   fastify  — `@fastify/rate-limit` with its Redis store (it counts every request: one Redis round trip each);
 *   keygate  — Keygate's limiter with the Redis store's counter (`src/http/rate-limit.ts`): failed attempts are
 *              counted (one atomic script, after the answer), the check before verifying is a local look-up.
 * Two answers: `ok` (200: a valid token, the common case) and `fail` (401 to a request with credentials: every
 * request is counted by both limiters). Limits are far above the load, so nothing is refused. Each server is its
 * own process, loaded by wrk (one thread, BENCH_CONNECTIONS connections, BENCH_DURATION seconds after 1 s warm-up),
 * variants alternated for BENCH_ROUNDS rounds. Reported: the median requests per second, and — steadier on a busy
 * machine — the CPU time per request of the server process and of redis-server (from /proc, user + system).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { installRateLimits } from '../src/http/rate-limit.js';
import { RedisStore } from '../src/session/redis.js';
import { freePort } from './lib/net.js';
import { processCpuUs } from './lib/proc.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const VARIANTS = ['none', 'local', 'fastify', 'keygate'] as const;
const ANSWERS = ['ok', 'fail'] as const;
type Variant = (typeof VARIANTS)[number];
type Answer = (typeof ANSWERS)[number];
const LIMIT = { max: 1_000_000_000, windowMs: 60_000 };

async function serve(variant: Variant, answer: Answer, port: number, redisUrl: string): Promise<void> {
  const app = Fastify({ logger: false });
  if (variant === 'fastify') {
    const { default: rateLimit } = await import('@fastify/rate-limit');
    const redis = new Redis(redisUrl, { connectTimeout: 500, maxRetriesPerRequest: 1 });
    await app.register(rateLimit, { global: true, max: LIMIT.max, timeWindow: LIMIT.windowMs, redis, nameSpace: 'bench-rl-', skipOnError: true });
  } else if (variant === 'local') {
    installRateLimits(app, { baseUrl: new URL('http://127.0.0.1/'), rateLimitLogin: undefined, rateLimitCallback: undefined, rateLimitBearerFailures: LIMIT }, Date.now);
  } else if (variant === 'keygate') {
    const store = await RedisStore.connect({ url: redisUrl, secretKeys: ['bench-secret-key-not-a-real-credential-0123'], prefix: 'bench:' });
    installRateLimits(app, { baseUrl: new URL('http://127.0.0.1/'), rateLimitLogin: undefined, rateLimitCallback: undefined, rateLimitBearerFailures: LIMIT }, Date.now, { shared: store.countHit.bind(store) });
  }
  app.get('/protected', async (_request, reply) => (answer === 'ok' ? { sub: 'bench', email: 'bench@example.com' } : reply.code(401).send({ error: 'invalid_token' })));
  await app.listen({ host: '127.0.0.1', port });
  process.stdout.write('ready\n');
}

function wrk(port: number, seconds: number): { rps: number; requests: number } {
  const out = spawnSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-H', 'Authorization: Bearer bench.token.value', `http://127.0.0.1:${port}/protected`], { encoding: 'utf8' });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out.stdout)?.[1];
  const requests = /(\d+) requests in/.exec(out.stdout)?.[1];
  if (out.status !== 0 || rps === undefined || requests === undefined) throw new Error(`wrk failed: ${out.stdout}${out.stderr}`);
  return { rps: Number(rps), requests: Number(requests) };
}

async function start(variant: Variant, answer: Answer, redisUrl: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'serve', variant, answer, String(port), redisUrl], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`${variant} exited ${code}`)));
  });
  return { port, child };
}

async function main(): Promise<void> {
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const results = new Map<string, number[]>();
  const nodeCpu = new Map<string, number[]>();
  const redisCpu = new Map<string, number[]>();
  const push = (map: Map<string, number[]>, key: string, value: number) => map.set(key, [...(map.get(key) ?? []), value]);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const answer of ANSWERS) {
        for (const variant of VARIANTS) {
          const { port, child } = await start(variant, answer, redisUrl);
          wrk(port, 1);
          const [node0, redis0] = [processCpuUs(child.pid!), processCpuUs(redis.pid!)];
          const { rps, requests } = wrk(port, DURATION);
          const [node1, redis1] = [processCpuUs(child.pid!), processCpuUs(redis.pid!)];
          child.kill('SIGTERM');
          const key = `${answer} ${variant}`;
          push(results, key, rps);
          push(nodeCpu, key, (node1 - node0) / requests);
          push(redisCpu, key, (redis1 - redis0) / requests);
        }
      }
    }
  } finally {
    redis.kill('SIGTERM');
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`\n/protected, ${ROUNDS} rounds × ${DURATION} s, ${CONNECTIONS} connections; medians`);
  console.log('answer               limiter    req/s  ratio   node µs/req  redis µs/req   (req/s of each round)');
  for (const answer of ANSWERS) {
    const none = median(results.get(`${answer} none`)!);
    for (const variant of VARIANTS) {
      const key = `${answer} ${variant}`;
      const m = median(results.get(key)!);
      console.log(
        `${(answer === 'ok' ? '200 (valid token)' : '401 (failed attempt)').padEnd(20)} ${variant.padEnd(8)} ${Math.round(m).toString().padStart(7)}  ${(m / none).toFixed(2)}×  ` +
          `${median(nodeCpu.get(key)!).toFixed(1).padStart(11)}  ${median(redisCpu.get(key)!).toFixed(1).padStart(12)}   [${results.get(key)!.map(Math.round).join(', ')}]`,
      );
    }
  }
}

if (process.argv[2] === 'serve') {
  const [, , , variant, answer, port, redisUrl] = process.argv;
  await serve(variant as Variant, answer as Answer, Number(port), redisUrl!);
} else {
  await main();
}
