import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const recorder = fileURLToPath(new URL('../helpers/record-loads.mjs', import.meta.url));
const HEAVY = ['fastify', 'pino', 'prom-client', 'ioredis', 'oidc-provider', 'koa', 'express'];

/** The packages (under node_modules) that importing `entry` resolves, and what the process printed. */
async function packagesLoadedBy(dir: string, entry: string): Promise<{ packages: Set<string>; stderr: string }> {
  const log = join(dir, `${entry.replace(/\W/g, '_')}.log`);
  const script = `await import(${JSON.stringify(new URL(entry, `file://${root}`).href)});`;
  const { stderr } = await run(process.execPath, ['--import', 'tsx', '--import', recorder, '--input-type=module', '-e', script], {
    cwd: root,
    env: { ...process.env, KEYGATE_LOAD_LOG: log },
    timeout: 60_000,
  });
  const packages = new Set<string>();
  for (const url of (await readFile(log, 'utf8')).split('\n')) {
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (match) packages.add(match[1]!);
  }
  return { packages, stderr };
}

describe('package entries by layer: what each one loads (a module-resolution hook records it)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keygate-loads-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keygate (the core) loads no web server, logger, metrics, Redis client or OpenID Provider', async () => {
    const { packages, stderr } = await packagesLoadedBy(dir, 'src/index.ts');
    assert.ok(packages.has('jose'), `the recorder sees the core's own dependencies: ${[...packages].join(', ')}`);
    assert.deepEqual(HEAVY.filter((name) => packages.has(name)), []);
    assert.doesNotMatch(stderr, /Unsupported runtime|oidc-provider/);
  });

  it('keygate/express loads no Fastify, pino, Redis client or OpenID Provider', async () => {
    const { packages, stderr } = await packagesLoadedBy(dir, 'src/adapters/express.ts');
    assert.deepEqual(HEAVY.filter((name) => packages.has(name)), []);
    assert.doesNotMatch(stderr, /Unsupported runtime/);
  });

  it('keygate/fastify loads Fastify (its host) but no Redis client, metrics or OpenID Provider', async () => {
    const { packages, stderr } = await packagesLoadedBy(dir, 'src/adapters/fastify.ts');
    assert.deepEqual(['prom-client', 'ioredis', 'oidc-provider', 'koa'].filter((name) => packages.has(name)), []);
    assert.doesNotMatch(stderr, /Unsupported runtime/);
  });

  it('keygate/redis loads ioredis, and not the server or the OpenID Provider', async () => {
    const { packages } = await packagesLoadedBy(dir, 'src/redis.ts');
    assert.ok(packages.has('ioredis'));
    assert.deepEqual(['fastify', 'pino', 'prom-client', 'oidc-provider', 'koa'].filter((name) => packages.has(name)), []);
  });

  it('keygate/server loads the server, but the development provider only when it runs (in development mode)', async () => {
    const { packages } = await packagesLoadedBy(dir, 'src/server.ts');
    assert.ok(packages.has('fastify') && packages.has('pino'), [...packages].join(', '));
    assert.deepEqual(['oidc-provider', 'koa'].filter((name) => packages.has(name)), []);
  });
});
