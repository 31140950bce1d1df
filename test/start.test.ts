/**
 * `npm start`, run as a developer runs it, several times at once from one checkout: eight `npm start` within a second,
 * each on its own port with the development defaults, must all serve `GET /healthz`, whether dist/ is missing,
 * current or older than src/; dist/ is built at most once and never replaced while a start loads it.
 * The checkout is a copy in a temporary directory (src/, scripts/, public/, package.json, tsconfig*.json, and
 * node_modules linked), so the test controls dist/ without touching the repository's.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from './helpers/net.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const INSTANCES = 8;
/** A start that has to wait for a tsc build on a busy two-core machine. */
const READY_LIMIT_MS = 180_000;
const BUILD_LINE = /building dist\//g;

interface Instance {
  child: ChildProcess;
  port: number;
  /** From spawn to the first 200 from /healthz. */
  readyMs: number;
  stderr: () => string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const healthz = (port: number) => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0);

/** `npm start` (or `command`) in `cwd`, in its own process group so that stopping it by PID also stops npm's child. */
async function startOne(cwd: string, command: string[] = ['npm', 'start']): Promise<Instance> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(command[0]!, command.slice(1), {
    cwd,
    detached: true,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: String(port), npm_config_update_notifier: 'false' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  for (;;) {
    if ((await healthz(port)) === 200) return { child, port, readyMs: performance.now() - started, stderr: () => stderr };
    if (child.exitCode !== null || performance.now() - started > READY_LIMIT_MS) {
      await stop({ child, port, readyMs: Number.NaN, stderr: () => stderr });
      throw new Error(`${command.join(' ')} on port ${port} did not serve /healthz (exit ${child.exitCode}):\n${stderr}`);
    }
    await sleep(50);
  }
}

/** Stops the process group the instance leads (npm, its shell, and Keygate), then checks the port is closed. */
async function stop(instance: Instance): Promise<void> {
  const { child } = instance;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    process.kill(-child.pid!, 'SIGTERM');
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  for (let i = 0; i < 100 && (await healthz(instance.port)) !== 0; i++) await sleep(100);
  assert.equal(await healthz(instance.port), 0, `Keygate on port ${instance.port} still answers after its process group was stopped`);
}

/** Starts INSTANCES at once; all are stopped after the test, whatever happened. */
async function startMany(t: TestContext, cwd: string): Promise<Instance[]> {
  const results = await Promise.allSettled(Array.from({ length: INSTANCES }, () => startOne(cwd)));
  const running = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  t.after(() => Promise.all(running.map(stop)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  assert.deepEqual(failures, [], `${failures.length} of ${INSTANCES} instances did not start`);
  return running;
}

const builds = (instances: Instance[]) => instances.reduce((n, i) => n + (i.stderr().match(BUILD_LINE)?.length ?? 0), 0);
const summary = (instances: Instance[]) => {
  const ms = instances.map((i) => i.readyMs).sort((a, b) => a - b);
  return `min ${ms[0]!.toFixed(0)} ms, median ${ms[ms.length >> 1]!.toFixed(0)} ms, max ${ms.at(-1)!.toFixed(0)} ms`;
};

describe('npm start, eight at once from one checkout', () => {
  let checkout: string;
  before(() => {
    checkout = mkdtempSync(join(tmpdir(), 'keygate-start-'));
    for (const entry of ['src', 'scripts', 'public', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) {
      cpSync(join(REPO, entry), join(checkout, entry), { recursive: true });
    }
    symlinkSync(join(REPO, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  });
  after(() => rmSync(checkout, { recursive: true, force: true }));

  it('without dist/: one of them builds it, all eight serve /healthz', async (t) => {
    const instances = await startMany(t, checkout);
    assert.equal(builds(instances), 1);
    t.diagnostic(`spawn to /healthz 200, one tsc build among ${INSTANCES}: ${summary(instances)}`);
  });

  it('with dist/ current: none builds, all eight serve /healthz; start-up times, eight at once and one alone', async (t) => {
    const instances = await startMany(t, checkout);
    assert.equal(builds(instances), 0);
    t.diagnostic(`spawn to /healthz 200, ${INSTANCES} at once: ${summary(instances)}`);
    await Promise.all(instances.map(stop));
    for (const command of [['npm', 'start'], [process.execPath, 'scripts/start.js']]) {
      const alone = await startOne(checkout, command);
      await stop(alone);
      t.diagnostic(`spawn to /healthz 200, ${command.join(' ')} alone: ${alone.readyMs.toFixed(0)} ms`);
    }
  });

  it('after an edit to src/: one of them rebuilds dist/ with the edit, all eight serve /healthz', async (t) => {
    const before = readFileSync(join(checkout, 'dist', '.build-key'), 'utf8');
    appendFileSync(join(checkout, 'src', 'http', 'routes', 'health.ts'), '\nexport const editedForStartTest = true;\n');
    const instances = await startMany(t, checkout);
    assert.equal(builds(instances), 1);
    assert.notEqual(readFileSync(join(checkout, 'dist', '.build-key'), 'utf8'), before);
    assert.match(readFileSync(join(checkout, 'dist', 'http', 'routes', 'health.js'), 'utf8'), /editedForStartTest/);
    t.diagnostic(`spawn to /healthz 200, one tsc rebuild among ${INSTANCES}: ${summary(instances)}`);
  });
});
