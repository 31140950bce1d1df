import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The package as users get it: built to dist/, resolved by name through "exports", packed with what it needs. */
describe('package entry points: keygate, keygate/fastify, keygate/express', () => {
  before(async () => {
    await run(npm, ['run', 'build'], { timeout: 180_000 });
  });

  it('each entry imports by package name under plain Node (self-reference through "exports")', async () => {
    const script = `
      const core = await import('keygate');
      const fastify = await import('keygate/fastify');
      const express = await import('keygate/express');
      console.log(JSON.stringify({
        core: ['createKeygate', 'MemoryStore', 'KeygateError', 'BearerError', 'UnavailableError', 'KeygateOptionsError', 'PolicyError', 'compilePolicy', 'errorAnswer'].filter((n) => typeof core[n] !== 'function'),
        fastify: typeof fastify.keygatePlugin === 'function' && fastify.default === fastify.keygatePlugin,
        express: typeof express.keygateExpress === 'function' && express.default === express.keygateExpress,
      }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()!), { core: [], fastify: true, express: true });
  });

  it('the adapters stay light: importing them does not load the server or the development provider', async () => {
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', "await import('keygate/fastify'); await import('keygate/express'); console.log('ok')"], { timeout: 60_000 });
    assert.equal(stdout.trim(), 'ok');
    // oidc-provider announces itself on import under Node 20; the main entry (which exports startKeygate) does.
    assert.doesNotMatch(stderr, /oidc-provider/);
  });

  it('the built types type-check a consumer that imports by package name (request.auth and req.auth typed)', async () => {
    await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'test/package/consumer/tsconfig.json'], { timeout: 180_000 }).catch((error: { stdout?: string }) => {
      assert.fail(`tsc failed:\n${error.stdout ?? String(error)}`);
    });
  });

  it('npm pack ships the three entries with their types, and no sources or tests', async () => {
    const { stdout } = await run(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { timeout: 120_000 });
    const files = new Set((JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path));
    for (const path of ['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/adapters/fastify.js', 'dist/adapters/fastify.d.ts', 'dist/adapters/express.js', 'dist/adapters/express.d.ts', 'dist/keygate/create.js', 'dist/policy/route.js']) {
      assert.ok(files.has(path), `${path} is not packed`);
    }
    assert.deepEqual([...files].filter((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('examples/')), []);
  });

  it('every packed source map carries its sources inline (src/ is not shipped), equal to the sources', async () => {
    const { stdout } = await run(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { timeout: 120_000 });
    const maps = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path).filter((p) => p.endsWith('.js.map'));
    assert.ok(maps.length > 50, `only ${maps.length} maps packed`);
    for (const path of maps) {
      const map = JSON.parse(await readFile(path, 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
      assert.equal(map.sourcesContent?.length, map.sources.length, `${path}: no sourcesContent`);
      for (const [i, source] of map.sources.entries()) {
        assert.equal(map.sourcesContent![i], await readFile(resolve(dirname(path), source), 'utf8'), `${path}: ${source} differs`);
      }
    }
  });

  it('a stack trace through the package maps to the TypeScript line (node --enable-source-maps)', async () => {
    const script = "const { createKeygate } = await import('keygate'); try { createKeygate({}); } catch (e) { console.log(e.stack); }";
    const { stdout } = await run(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], { timeout: 60_000 });
    const source = await readFile(join('src', 'keygate', 'options.ts'), 'utf8');
    const line = source.split('\n').findIndex((l) => l.includes('if (problems.length > 0) throw new KeygateOptionsError(problems);')) + 1;
    assert.ok(line > 0);
    assert.match(stdout, new RegExp(`src/keygate/options\\.ts:${line}:`), stdout);
  });
});
