/**
 * A CommonJS project using the published package: `require()` of every entry (Node ≥ 20.19 loads ES modules
 * without top-level await synchronously), and a CommonJS TypeScript project (module nodenext) that imports the
 * typings and runs compiled. The package is linked as node_modules/keygate of a scratch project, resolved through
 * its "exports" exactly as an installed copy is.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const ROOT = resolve('.');

/** Each entry and a few names it must export under require(). */
const ENTRIES: Record<string, string[]> = {
  keygate: ['createKeygate', 'MemoryStore', 'KeygateError', 'compilePolicy'],
  'keygate/redis': ['RedisStore', 'createRedisClient'],
  'keygate/server': ['startKeygate', 'loadConfig', 'buildApp'],
  'keygate/fastify': ['keygatePlugin', 'createKeygate', 'default'],
  'keygate/express': ['keygateExpress', 'createKeygate', 'default'],
};

describe('CommonJS: require() of every entry, and a CommonJS TypeScript project', () => {
  let project: string;

  before(async () => {
    await run(npm, ['run', 'build'], { timeout: 180_000 });
    project = await mkdtemp(join(tmpdir(), 'keygate-cjs-'));
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'cjs-consumer', private: true, type: 'commonjs' }));
    await mkdir(join(project, 'node_modules'));
    await symlink(ROOT, join(project, 'node_modules', 'keygate'), 'dir');
    // The application's own Express (a peer dependency of keygate/express).
    await symlink(join(ROOT, 'node_modules', 'express'), join(project, 'node_modules', 'express'), 'dir');
  });
  after(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  for (const [entry, names] of Object.entries(ENTRIES)) {
    it(`require('${entry}') works without a flag and exports ${names.join(', ')}`, async () => {
      const script = `const m = require(${JSON.stringify(entry)}); console.log(JSON.stringify(${JSON.stringify(names)}.filter((n) => m[n] === undefined)));`;
      const { stdout, stderr } = await run(process.execPath, ['-e', script], { cwd: project, timeout: 60_000 });
      assert.equal(stdout.trim().split('\n').pop(), '[]', `missing exports:\n${stdout}\n${stderr}`);
      assert.doesNotMatch(stderr, /ERR_REQUIRE|Error/, stderr);
    });
  }

  it('require(keygate/express) in a CommonJS Express app guards a route (401 without a token)', async () => {
    const script = `
      const express = require('express');
      const { keygateExpress } = require('keygate/express');
      const app = express();
      app.get('/me', keygateExpress({ issuer: 'https://tenant.example.auth0.com/', audience: 'https://api.example.com' }), (req, res) => res.json(req.auth));
      const server = app.listen(0, '127.0.0.1', async () => {
        const response = await fetch('http://127.0.0.1:' + server.address().port + '/me');
        console.log(response.status, response.headers.get('www-authenticate'));
        server.close();
        process.exit(0);
      });`;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: project, timeout: 60_000 });
    assert.equal(stdout.trim(), '401 Bearer');
  });

  it('tsc (module nodenext, type commonjs) accepts the typings; the compiled require() runs', async () => {
    await writeFile(
      join(project, 'api.ts'),
      [
        "import { createKeygate, type KeygateAuth } from 'keygate';",
        "import { keygateExpress } from 'keygate/express';",
        "import { keygatePlugin } from 'keygate/fastify';",
        "const keygate = createKeygate({ issuer: 'https://tenant.example.auth0.com/', audience: ['https://api.example.com'] });",
        'const auth = keygateExpress({ keygate });',
        'const who = (a: KeygateAuth | undefined): string => a?.profile.sub ?? "anonymous";',
        "console.log(typeof auth.protect, typeof keygatePlugin, who(undefined));",
        'void keygate.close();',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', strict: true, skipLibCheck: true, outDir: 'out', types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] },
        files: ['api.ts'],
      }),
    );
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: project, timeout: 180_000 }).catch((error: { stdout?: string }) => {
      assert.fail(`tsc failed:\n${error.stdout ?? String(error)}`);
    });
    const { stdout } = await run(process.execPath, [join(project, 'out', 'api.js')], { cwd: project, timeout: 60_000 });
    assert.equal(stdout.trim(), 'function function anonymous');
  });
});
