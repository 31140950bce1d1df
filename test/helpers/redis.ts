/**
 * A real redis-server for tests: a child process on a free loopback port, no persistence, stopped by PID.
 * `stop()`, `freeze()` (SIGSTOP) and `thaw()` (SIGCONT) inject the faults; `start()` brings it back on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './net.js';

export const REDIS_SERVER = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';

export class TestRedis {
  #child: ChildProcess | undefined;
  #frozen = false;

  private constructor(readonly port: number, readonly extraArgs: string[], readonly leadingArgs: string[] = []) {}

  static async start(extraArgs: string[] = []): Promise<TestRedis> {
    return TestRedis.startOn(await freePort(), extraArgs);
  }

  static async startOn(port: number, extraArgs: string[] = [], leadingArgs: string[] = []): Promise<TestRedis> {
    const redis = new TestRedis(port, extraArgs, leadingArgs);
    await redis.start();
    return redis;
  }

  /** A Sentinel (redis-server in sentinel mode, its config file in `dir`) monitoring `masterPort` as `name`. */
  static async startSentinel(dir: string, masterPort: number, name: string): Promise<TestRedis> {
    const port = await freePort();
    const conf = join(dir, `sentinel-${port}.conf`);
    await writeFile(conf, `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1\nsentinel down-after-milliseconds ${name} 1000\n`);
    return TestRedis.startOn(port, [], [conf, '--sentinel']);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts (or restarts) the server on its port and resolves when it answers PING. */
  async start(): Promise<void> {
    if (this.#child) throw new Error('redis-server already running');
    const child = spawn(
      REDIS_SERVER,
      [
        ...this.leadingArgs,
        '--port', String(this.port), '--bind', '127.0.0.1', '--daemonize', 'no', '--loglevel', 'warning',
        ...(this.leadingArgs.includes('--sentinel') ? [] : ['--save', '', '--appendonly', 'no']),
        ...this.extraArgs,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.#child = child;
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined;
    });
    const deadline = Date.now() + 5_000;
    while (!(await this.#answers())) {
      if (this.#child !== child || Date.now() > deadline) {
        await this.stop();
        throw new Error(`redis-server did not start on port ${this.port}: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops the server (SIGKILL if it is frozen or slow) and waits for the process to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.#child = undefined;
      return;
    }
    const exited = once(child, 'exit');
    if (this.#frozen) child.kill('SIGCONT');
    this.#frozen = false;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
    this.#child = undefined;
  }

  /** Connected but not answering: the process is stopped (SIGSTOP). */
  freeze(): void {
    if (!this.#child?.pid) throw new Error('redis-server not running');
    this.#child.kill('SIGSTOP');
    this.#frozen = true;
  }

  thaw(): void {
    if (!this.#child?.pid) throw new Error('redis-server not running');
    this.#child.kill('SIGCONT');
    this.#frozen = false;
  }

  /** True when a PING on a fresh connection gets PONG within 200 ms. */
  #answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: this.port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(200, () => done(false));
      socket.once('error', () => done(false));
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    });
  }
}
