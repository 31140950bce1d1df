/**
 * The README's "Protect your own API", followed as a newcomer would, timed: `npm init -y` in a scratch directory,
 * `npm install` of `npm pack` of this checkout (with fastify, dependencies from npm's cache), the README's snippet
 * verbatim as server.mjs, Keygate in development mode started as the README says (`npx keygate` with its AUDIENCE and
 * SCOPE, on a real Redis shared with the API), a token from `npx keygate token`, a scope policy that passes and a
 * permission policy that fails, then `POST /logout` and the API refusing the token through the shared store.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../helpers/net.js';
import { TestRedis } from '../helpers/redis.js';
import { parseMarkdown, readRepoFile, ROOT } from '../docs/markdown.js';
import { background, run, until, userEnv, type Background } from './scratch.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** The README's section, its snippet verbatim, and the settings its `npx keygate` line gives Keygate. */
function readmeQuickstart(): { snippet: string; keygateSettings: Record<string, string>; install: string[] } {
  const readme = readRepoFile('README.md')!;
  const start = readme.indexOf('## Protect your own API');
  assert.ok(start >= 0, 'README.md has no "Protect your own API" section');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const { blocks } = parseMarkdown('README.md', section);
  const snippet = blocks.find((b) => b.lang === 'js');
  const shell = blocks.find((b) => b.lang === 'sh' && b.code.includes('npm install keygate'));
  assert.ok(snippet && shell, 'the section has no js snippet or no sh block that starts Keygate');
  const startLine = shell.code.split('\n').find((line) => /\bnpx keygate\b/.test(line))!;
  const keygateSettings = Object.fromEntries([...startLine.matchAll(/\b([A-Z_]+)=("[^"]*"|'[^']*'|\S+)/g)].map((m) => [m[1]!, m[2]!.replace(/^["']|["']$/g, '')]));
  const install = shell.code.split('\n').find((line) => line.startsWith('npm install '))!.split(/\s+/).slice(2);
  return { snippet: snippet.code, keygateSettings, install };
}

describe('quickstart: the README from npm init -y to a protected route that honours logout', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'keygate-quickstart-'));
  const processes: Background[] = [];
  let redis: TestRedis | undefined;

  after(async () => {
    for (const p of processes.reverse()) await p.stop();
    await redis?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('installs the packed checkout, runs the README snippet against a real Keygate, and logout reaches the API', { timeout: 600_000 }, async (t) => {
    const { snippet, keygateSettings, install } = readmeQuickstart();
    assert.deepEqual(install, ['keygate', 'fastify'], 'the README installs keygate and fastify');
    assert.equal(keygateSettings.AUDIENCE, 'https://api.example.com');

    // What a publish would give: the packed checkout (prepack builds dist/ when src/ changed). Not part of the timing.
    const packStarted = performance.now();
    const packed = JSON.parse((await run(npm, ['pack', '--json', '--pack-destination', scratch], { cwd: ROOT, timeoutMs: 300_000 })).stdout) as Array<{ filename: string }>;
    const tarball = join(scratch, packed[0]!.filename);
    t.diagnostic(`npm pack of the checkout: ${Math.round(performance.now() - packStarted)} ms`);

    redis = await TestRedis.start();
    const secretKey = randomBytes(32).toString('hex');
    const app = join(scratch, 'app');
    mkdirSync(app);
    const steps: string[] = [];
    const started = performance.now();
    let last = started;
    const step = (name: string) => {
      const now = performance.now();
      steps.push(`${name} ${Math.round(now - last)} ms`);
      last = now;
    };

    await run(npm, ['init', '-y'], { cwd: app, timeoutMs: 60_000 });
    assert.notEqual(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).type, 'module', 'npm init -y makes a CommonJS project; the README says so');
    step('npm init -y');

    const installStarted = performance.now();
    await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, 'fastify'], { cwd: app, timeoutMs: 240_000 });
    const installMs = Math.round(performance.now() - installStarted);
    step('npm install');

    writeFileSync(join(app, 'server.mjs'), snippet);

    // Keygate in development mode, as the README starts it, on a free loopback port, sharing Redis. The command is
    // the one `npx keygate` runs (node_modules/.bin/keygate), started without npx so that its PID is Keygate's own:
    // npx does not pass SIGTERM on, and its child would outlive the test.
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const shared = { REDIS_URL: redis.url, SECRET_KEY: secretKey };
    const keygate = background(process.execPath, [realpathSync(join(app, 'node_modules', '.bin', 'keygate'))], app, userEnv({ ...keygateSettings, ...shared, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn' }));
    processes.push(keygate);
    await until('Keygate answers /readyz', 60_000, async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined), keygate.output);
    step('Keygate ready');

    const { stdout: tokenOut } = await run(npx, ['--no-install', 'keygate', 'token', '--user', 'alice@example.com', '--base-url', base], { cwd: app, timeoutMs: 60_000 });
    const token = tokenOut.trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'keygate token prints one JWT');
    step('keygate token');

    const apiPort = await freePort();
    const api = background(process.execPath, ['server.mjs'], app, userEnv({ ...shared, KEYGATE_ISSUER: `${base}/idp`, API_PORT: String(apiPort) }));
    processes.push(api);
    const messages = `http://127.0.0.1:${apiPort}/messages`;
    const bearer = { authorization: `Bearer ${token}` };
    await until('the API listens', 30_000, async () => ((await fetch(messages)).status === 401 ? true : undefined), api.output);
    step('API listening');

    const allowed = await fetch(messages, { headers: bearer });
    assert.equal(allowed.status, 200, `${await allowed.clone().text()}\n${api.output()}`);
    assert.deepEqual(await allowed.json(), { for: 'alice@example.com' });
    const refused = await fetch(messages, { method: 'DELETE', headers: bearer });
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { error: string }).error, 'insufficient_scope');
    assert.match(refused.headers.get('www-authenticate') ?? '', /scope="delete:messages"/);

    const logout = await fetch(`${base}/logout`, { method: 'POST', headers: { ...bearer, accept: 'application/json' } });
    assert.equal(logout.status, 200, await logout.clone().text());
    assert.deepEqual(await logout.json(), { status: 'logged_out', ended: true });
    const loggedOut = performance.now();
    // The API hears of the logout through Redis pub/sub: allow a bounded wait (the first request usually sees it).
    const after = await until('the API refuses the logged-out token', 2_000, async () => {
      const r = await fetch(messages, { headers: bearer });
      return r.status === 401 ? r : undefined;
    });
    assert.equal(((await after.json()) as { error: string }).error, 'invalid_token');
    const honouredMs = Math.round(performance.now() - loggedOut);
    step('logout honoured');

    const totalMs = Math.round(performance.now() - started);
    t.diagnostic(`npm init -y → a protected route that honours logout: ${(totalMs / 1000).toFixed(1)} s (${steps.join(', ')})`);
    t.diagnostic(`npm install of the packed checkout and fastify: ${(installMs / 1000).toFixed(1)} s; logout → API 401 in ${honouredMs} ms`);
  });
});
