/**
 * Builds `dist/` from `src/` with tsc, only when the sources changed since the last build, and never in place:
 * tsc writes a fresh directory beside `dist/`, which is renamed into place once complete, under a lock
 * (see build-lock.js) so that concurrent builds do not build twice and no `npm start` is loading `dist/` at that moment.
 * `dist/.build-key` records the hash of the sources a build was made from.
 *
 *   node scripts/build.js            # npm run build, prepare (npm install) and prepack: build if stale
 *   node scripts/build.js --force    # build even if dist/ looks current
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildLock, isAlive } from './build-lock.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KEY_FILE = '.build-key';
/** Everything tsc's output depends on in this repository (package.json for "type" and self-references). */
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];
/** Build and swap directories sit beside dist/ so that the source maps' relative paths stay right after the rename. */
const SCRATCH = /^\.dist-(?:build|old)-(\d+)$/;

function files(path) {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

/** The hash of the build's inputs, or undefined when there are no sources (an installed package: dist/ is all). */
export function sourceKey(root = ROOT) {
  if (!existsSync(join(root, 'src'))) return undefined;
  const hash = createHash('sha256');
  const all = INPUTS.flatMap((input) => files(join(root, input))).map((file) => relative(root, file)).sort();
  for (const file of all) hash.update(`${file}\0`).update(readFileSync(join(root, file))).update('\0');
  return hash.digest('hex');
}

/** Whether dist/ was built from the current sources. */
export function isCurrent(root = ROOT) {
  const key = sourceKey(root);
  if (key === undefined) return existsSync(join(root, 'dist'));
  try {
    return readFileSync(join(root, 'dist', KEY_FILE), 'utf8') === key;
  } catch {
    return false;
  }
}

function compile(root, outDir) {
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`tsc failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`);
}

/** Directories left by a build that died. Only called under the lock. */
function removeScratch(root) {
  for (const name of readdirSync(root)) {
    const pid = Number(SCRATCH.exec(name)?.[1]);
    if (pid && (pid === process.pid || !isAlive(pid))) rmSync(join(root, name), { recursive: true, force: true });
  }
}

/** Builds dist/ if its sources changed (or `force`); returns whether it built. */
export function build(root = ROOT, { force = false } = {}) {
  if (!force && isCurrent(root)) return false;
  const lock = new BuildLock(root);
  lock.acquire();
  try {
    // Another process may have built while this one waited for the lock; the sources may have changed too.
    const key = sourceKey(root);
    if (!force && isCurrent(root)) return false;
    if (key === undefined) throw new Error(`no src/ in ${root}: nothing to build dist/ from`);
    removeScratch(root);
    process.stderr.write('keygate: building dist/ from src/ (tsc)\n');
    const fresh = join(root, `.dist-build-${process.pid}`);
    compile(root, fresh);
    writeFileSync(join(fresh, KEY_FILE), key);
    lock.waitForReaders();
    const dist = join(root, 'dist');
    const old = join(root, `.dist-old-${process.pid}`);
    if (existsSync(dist)) renameSync(dist, old);
    renameSync(fresh, dist);
    return true;
  } finally {
    removeScratch(root);
    lock.release();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    build(ROOT, { force: process.argv.includes('--force') });
  } catch (error) {
    process.stderr.write(`keygate: build failed: ${error.message}\n`);
    process.exitCode = 1;
  }
}
