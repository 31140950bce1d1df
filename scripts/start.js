/**
 * `npm start`: runs dist/cli/keygate.js (in this process, with the same arguments). `npm install` has built dist/
 * already (the `prepare` script); if src/ changed since, this start rebuilds it first (see build.js), so an edit is
 * picked up and concurrent starts neither build twice nor load a dist/ that is being replaced.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BuildLock } from './build-lock.js';
import { ROOT, build, isCurrent } from './build.js';

/** Each round either loads dist/ or waits for / runs one build; more rounds mean the sources keep changing. */
const ROUNDS = 5;

async function start() {
  const lock = new BuildLock(ROOT);
  for (let round = 0; round < ROUNDS; round++) {
    lock.addLease();
    if (lock.builder() !== undefined) {
      lock.dropLease();
      lock.waitUntilFree();
      continue;
    }
    if (isCurrent(ROOT)) {
      // Static imports only: once this import resolves, every module is loaded and dist/ may be replaced.
      try {
        await import(pathToFileURL(join(ROOT, 'dist', 'cli', 'keygate.js')).href);
      } finally {
        lock.dropLease();
      }
      return;
    }
    lock.dropLease();
    build(ROOT);
  }
  throw new Error(`src/ changed during each of ${ROUNDS} builds; start again once the edits are saved`);
}

start().catch((error) => {
  process.stderr.write(`keygate: cannot start: ${error.message}\n`);
  process.exitCode = 1;
});
