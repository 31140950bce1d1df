/**
 * The code blocks of docs/your-own-api.md, checked as a user would paste them: every `ts` block is type-checked as an
 * ES module of a scratch project (package.json "type": "module", module nodenext) that has the built package as
 * node_modules/keygate, resolved through its "exports"; every `js` block is parsed by Node as CommonJS.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const ROOT = resolve('.');
const DOC = 'docs/your-own-api.md';

function blocks(markdown: string): Array<{ lang: string; code: string; line: number }> {
  const found: Array<{ lang: string; code: string; line: number }> = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(fence)) {
    found.push({ lang: match[1]!, code: match[2]!, line: markdown.slice(0, match.index).split('\n').length });
  }
  return found;
}

describe(`${DOC}: every code block compiles`, () => {
  let project: string;
  let all: Array<{ lang: string; code: string; line: number }>;

  before(async () => {
    await run(npm, ['run', 'build'], { timeout: 180_000 });
    all = blocks(await readFile(DOC, 'utf8'));
    project = await mkdtemp(join(tmpdir(), 'keygate-docs-'));
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'docs-blocks', private: true, type: 'module' }));
    await mkdir(join(project, 'node_modules'));
    await symlink(ROOT, join(project, 'node_modules', 'keygate'), 'dir');
    for (const peer of ['express', 'fastify']) await symlink(join(ROOT, 'node_modules', peer), join(project, 'node_modules', peer), 'dir');
    await mkdir(join(project, 'node_modules', '@types'));
    await symlink(join(ROOT, 'node_modules', '@types', 'express'), join(project, 'node_modules', '@types', 'express'), 'dir');
  });
  after(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  // Shell blocks are checked by test/docs/blocks.test.ts (commands, scripts, variables); the code is checked here too,
  // against the built package as a user's project resolves it.
  it('has ts blocks and only ts, js, sh or unmarked (output) blocks', () => {
    assert.ok(all.filter((b) => b.lang === 'ts').length >= 4);
    assert.deepEqual(all.filter((b) => !['ts', 'js', 'sh', ''].includes(b.lang)).map((b) => `${b.lang} at line ${b.line}`), []);
  });

  it('the ts blocks type-check (strict, ESM, module nodenext) against the built package', async () => {
    const files: string[] = [];
    for (const block of all.filter((b) => b.lang === 'ts')) {
      const name = `block-line-${block.line}.ts`;
      await writeFile(join(project, name), block.code);
      files.push(name);
    }
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] },
        files,
      }),
    );
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: project, timeout: 180_000 }).catch((error: { stdout?: string }) => {
      assert.fail(`tsc failed on ${DOC} (file names carry the block's line):\n${error.stdout ?? String(error)}`);
    });
  });

  it('the js blocks parse as CommonJS and their require() calls resolve', async () => {
    for (const block of all.filter((b) => b.lang === 'js')) {
      const file = join(project, `block-line-${block.line}.cjs`);
      await writeFile(file, block.code);
      await run(process.execPath, ['--check', file], { cwd: project, timeout: 30_000 });
      for (const [, id] of block.code.matchAll(/require\('([^']+)'\)/g)) {
        await run(process.execPath, ['-e', `require.resolve(${JSON.stringify(id)})`], { cwd: project, timeout: 30_000 });
      }
    }
  });
});
