/**
 * Coordination, through plain files under `.cache/build/`, between the process that rebuilds `dist/` and the
 * `npm start` processes that load it, so that `dist/` is never replaced while a start is loading it:
 *
 * - one builder at a time: the lock file `lock` holds the builder's pid and is created atomically (written aside,
 *   then hard-linked into place, so it never exists half-written);
 * - a start that loads `dist/` first writes a lease `readers/<pid>`, then checks that no build holds the lock; a
 *   builder takes the lock, then waits for the leases to go before it swaps `dist/`. Each side writes its own file
 *   before it reads the other's, so one of them always sees the other.
 *
 * A process can die holding a file: a lock or lease whose pid is gone, or that is older than any real build or load
 * takes (pids are reused), does not count.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const POLL_MS = 50;
/** Longer than any build on a busy machine; a lock this old was left by a process whose pid is now someone else's. */
const LOCK_STALE_MS = 10 * 60_000;
/** Longer than any start takes to load its modules. */
const LEASE_STALE_MS = 60_000;

export function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function isAlive(pid) {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** The pid a lock or lease file names while it still counts, or undefined. */
function holder(file, staleMs) {
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    return isAlive(pid) && Date.now() - statSync(file).mtimeMs < staleMs ? pid : undefined;
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

export class BuildLock {
  constructor(root) {
    this.dir = join(root, '.cache', 'build');
    this.file = join(this.dir, 'lock');
    this.readers = join(this.dir, 'readers');
    this.lease = join(this.readers, String(process.pid));
  }

  /** The pid of the build in progress, if any. */
  builder() {
    return holder(this.file, LOCK_STALE_MS);
  }

  /** Takes the lock, waiting for another builder at most `timeoutMs`. */
  acquire(timeoutMs = LOCK_STALE_MS) {
    mkdirSync(this.dir, { recursive: true });
    const mine = `${this.file}.${process.pid}`;
    writeFileSync(mine, String(process.pid));
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          linkSync(mine, this.file);
          return;
        } catch (error) {
          if (error.code !== 'EEXIST') throw error;
        }
        if (this.builder() === undefined) this.#breakStale();
        else if (Date.now() > deadline) throw new Error(`another build (pid ${this.builder()}) holds ${this.file}`);
        else sleep(POLL_MS);
      }
    } finally {
      rmSync(mine, { force: true });
    }
  }

  release() {
    if (holder(this.file, Infinity) === process.pid) rmSync(this.file, { force: true });
  }

  /** Waits, at most `timeoutMs`, until no build holds the lock. */
  waitUntilFree(timeoutMs = LOCK_STALE_MS) {
    const deadline = Date.now() + timeoutMs;
    for (let pid = this.builder(); pid !== undefined; pid = this.builder()) {
      if (Date.now() > deadline) throw new Error(`a build (pid ${pid}) still holds ${this.file}`);
      sleep(POLL_MS);
    }
  }

  /** A start announces that it is about to load `dist/`. */
  addLease() {
    mkdirSync(this.readers, { recursive: true });
    writeFileSync(this.lease, String(process.pid));
  }

  dropLease() {
    rmSync(this.lease, { force: true });
  }

  /** The builder waits until no other process is loading `dist/`; leases that no longer count are removed. */
  waitForReaders() {
    for (;;) {
      const live = (existsSync(this.readers) ? readdirSync(this.readers) : []).filter((name) => {
        const file = join(this.readers, name);
        if (name === String(process.pid)) return false;
        if (holder(file, LEASE_STALE_MS) !== undefined) return true;
        rmSync(file, { force: true });
        return false;
      });
      if (live.length === 0) return;
      sleep(POLL_MS);
    }
  }

  /**
   * Removes a lock left by a dead process. It is first renamed to a name of our own, which only one waiter can do;
   * if that waiter finds it took a live lock (taken again after its check), it puts the lock back.
   */
  #breakStale() {
    const aside = `${this.file}.stale.${process.pid}`;
    try {
      renameSync(this.file, aside);
    } catch (error) {
      if (error.code === 'ENOENT') return;
      throw error;
    }
    if (holder(aside, LOCK_STALE_MS) !== undefined) {
      try {
        linkSync(aside, this.file);
      } catch (error) {
        if (error.code !== 'EEXIST') throw error;
      }
    }
    rmSync(aside, { force: true });
  }
}
