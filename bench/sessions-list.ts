/**
 * Listing 10,000 sessions of a real redis-server page by page (the store's `listPage`, as `GET /admin/sessions` uses
 * it): time per page, and Redis commands per page from `INFO commandstats` deltas — the commands the client sent
 * (one EVALSHA) and every command run, those inside the script included.
 *
 *   node --import tsx bench/sessions-list.ts [sessions=10000]
 *
 * Needs `redis-server` on the PATH; starts its own on a free loopback port and stops it by PID.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisStore } from '../src/session/redis.js';
import type { Session } from '../src/session/store.js';
import { freePort } from './lib/net.js';

const TOTAL = Number(process.argv[2] ?? 10_000);
const port = await freePort();
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
const url = `redis://127.0.0.1:${port}`;
const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: (n) => (n > 50 ? null : 100) });

async function commandStats(): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const line of (await admin.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    // INFO itself and the heartbeat are not the listing's work.
    if (match && !['info', 'ping', 'publish'].includes(match[1]!)) stats.set(match[1]!, Number(match[2]));
  }
  return stats;
}

function delta(before: Map<string, number>, after: Map<string, number>): { client: number; all: number; detail: string } {
  let all = 0;
  const parts: string[] = [];
  for (const [name, calls] of after) {
    const d = calls - (before.get(name) ?? 0);
    if (d > 0) {
      all += d;
      parts.push(`${name} ${d}`);
    }
  }
  const client = (after.get('evalsha') ?? 0) - (before.get('evalsha') ?? 0) + (after.get('eval') ?? 0) - (before.get('eval') ?? 0);
  return { client, all, detail: parts.sort().join(', ') };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function fill(store: RedisStore, subjectOf: (i: number) => string): Promise<number> {
  const started = performance.now();
  const now = Date.now();
  for (let i = 0; i < TOTAL; i += 500) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(TOTAL, i + 500); j++) {
      const session: Session = {
        id: randomBytes(32).toString('base64url'),
        sub: subjectOf(j),
        email: `user${j % 1000}@example.com`,
        apiToken: `eyJhbGciOiJSUzI1NiJ9.${randomBytes(200).toString('base64url')}.${randomBytes(64).toString('base64url')}`,
        tokenKind: 'id_token',
        tokenKey: randomBytes(32).toString('base64url'),
        createdAt: now,
        // Tokens of one second share an expiry: the walk must handle long runs of equal scores.
        expiresAt: (Math.floor(now / 1000) + 3600 + (j % 50)) * 1000,
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
        clientAddress: '203.0.113.7',
      };
      batch.push(store.create(session));
    }
    await Promise.all(batch);
  }
  return performance.now() - started;
}

async function walk(store: RedisStore, label: string, limit: number, sub?: string): Promise<void> {
  const times: number[] = [];
  const commands: Array<{ client: number; all: number; detail: string }> = [];
  let cursor: string | undefined;
  let seen = 0;
  const ids = new Set<string>();
  do {
    const before = await commandStats();
    const started = performance.now();
    const page = await store.listPage({ limit, ...(sub ? { sub } : {}), ...(cursor ? { cursor } : {}) });
    times.push(performance.now() - started);
    commands.push(delta(before, await commandStats()));
    seen += page.sessions.length;
    for (const s of page.sessions) ids.add(s.id);
    cursor = page.cursor;
  } while (cursor !== undefined);
  const sorted = [...times].sort((a, b) => a - b);
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  console.log(`\n${label}: limit ${limit}, ${times.length} pages, ${seen} sessions listed (${ids.size} distinct), total ${ms(times.reduce((a, b) => a + b, 0))}`);
  console.log(`  time per page: min ${ms(sorted[0]!)}, median ${ms(quantile(sorted, 0.5))}, p95 ${ms(quantile(sorted, 0.95))}, max ${ms(sorted.at(-1)!)}`);
  const first = commands[0]!;
  const middle = commands[Math.floor(commands.length / 2)]!;
  console.log(`  Redis commands per page: ${first.client} sent by the client; run in all (script included): first page ${first.all}, middle page ${middle.all}, last page ${commands.at(-1)!.all}`);
  console.log(`  middle page in detail: ${middle.detail}`);
}

admin.on('error', () => {});
try {
  // redis-server takes a moment to listen.
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (await admin.connect().then(() => true, () => false)) break;
  }
  const open = (prefix: string) =>
    RedisStore.fromUrl(url, { secretKeys: ['bench-secret-key-0123456789abcdefghij'], prefix, heartbeatMs: 60_000 }, 5_000);
  console.log(`redis-server ${(await admin.info('server')).match(/redis_version:(\S+)/)?.[1]} on ${url}; ${TOTAL} sessions per fill`);

  const all = await open('bench-all:');
  console.log(`fill: ${TOTAL} sessions of 1,000 users in ${(await fill(all, (i) => `auth0|user${i % 1000}`)).toFixed(0)} ms`);
  await walk(all, 'every session (GET /admin/sessions)', 100);
  await walk(all, 'every session (GET /admin/sessions)', 500);
  await all.close();

  const one = await open('bench-one:');
  console.log(`\nfill: ${TOTAL} sessions of one user in ${(await fill(one, () => 'auth0|busy')).toFixed(0)} ms`);
  await walk(one, 'one user\'s sessions (GET /admin/sessions?user=<sub>)', 100, 'auth0|busy');
  await one.close();
} finally {
  admin.disconnect();
  server.kill('SIGTERM');
}
