import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startLocalIssuer } from '../helpers/issuer.js';

const CLI = fileURLToPath(new URL('../../src/cli/keygate.ts', import.meta.url));
/** tsx by absolute URL: the CLI runs in an empty directory where the bare name would not resolve. */
const TSX = import.meta.resolve('tsx');
const cwd = mkdtempSync(join(tmpdir(), 'keygate-cli-'));

/**
 * Runs the CLI in an empty directory with exactly `env` (plus PATH), like an operator would. Asynchronous, so that a
 * provider this test process serves can answer the CLI's discovery.
 */
function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', TSX, CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 20_000 },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }));
  });
}

describe('the keygate command', () => {
  after(() => rmSync(cwd, { recursive: true, force: true }));

  it('--version prints the package version', async () => {
    const r = await run(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^keygate \d+\.\d+\.\d+\n$/);
  });

  it('--check-config accepts the empty environment (development mode) and prints no secret', async () => {
    const r = await run(['--check-config']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Configuration is valid/);
    assert.match(r.stdout, /development/);
    assert.doesNotMatch(r.stdout, /keygate-dev-secret/);
  });

  it('--check-config reports every problem at once, each naming its variable, and exits 1', async () => {
    const r = await run(['--check-config'], { AUTH_HOST: 'tenant.example.com', CLIENT_ID: 'abc', PORT: 'eighty', REQUIRE_SESSION: 'maybe' });
    assert.equal(r.code, 1);
    for (const name of ['CLIENT_SECRET', 'SECRET_KEY', 'PORT', 'REQUIRE_SESSION']) assert.match(r.stderr, new RegExp(`- ${name}:`), name);
  });

  it('start refuses an unsafe configuration before listening', async () => {
    const r = await run([], { ISSUER_URL: 'http://idp.example.com', CLIENT_ID: 'abc', CLIENT_SECRET: 'x'.repeat(40), SECRET_KEY: 'y'.repeat(40) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ISSUER_URL: plain http is only allowed for loopback hosts/);
  });

  it('reads a .env file in the working directory; the real environment wins (and --check-config tries the provider)', async () => {
    const issuer = await startLocalIssuer('https://api.example.com');
    writeFileSync(join(cwd, '.env'), `ISSUER_URL=${issuer.issuer}\nCLIENT_ID=from-file\nCLIENT_SECRET=file-secret\nSECRET_KEY=${'z'.repeat(40)}\n`);
    try {
      const r = await run(['--check-config'], { CLIENT_ID: 'from-env' });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /"client_id": "from-env"/);
      assert.match(r.stdout, new RegExp(`"issuer": "${issuer.issuer}/?"`));
      assert.doesNotMatch(r.stdout, /file-secret|zzzz/);
      assert.equal(issuer.hits.get('/.well-known/openid-configuration'), 1, '--check-config fetched the discovery document');
    } finally {
      rmSync(join(cwd, '.env'));
      await issuer.close();
    }
  });

  it('--check-config names the Redis store without its password', async () => {
    const r = await run(['--check-config'], { REDIS_URL: 'rediss://keygate:hunter2-secret@redis.internal:6380/2', SECRET_KEY: 'k'.repeat(40) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"store": "redis rediss:\/\/redis\.internal:6380\/2 \(prefix keygate:\)"/);
    assert.doesNotMatch(r.stdout, /hunter2/);
    const bad = await run(['--check-config'], { REDIS_URL: 'http://keygate:hunter2-secret@redis.internal' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /- REDIS_URL:/);
    assert.doesNotMatch(bad.stderr, /hunter2/);
  });

  it('rejects unknown arguments', async () => {
    const r = await run(['--frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown argument/);
  });
});
