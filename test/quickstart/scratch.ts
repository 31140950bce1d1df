/**
 * A newcomer's machine for the quickstart test: commands run in a scratch directory with a time bound each, and
 * long-running processes (Keygate, the user's API) stopped by PID when the test ends, also when it ends early.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** The environment a user's shell would give: the test process's, without what `npm test` adds about this package. */
export function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(npm_package_|npm_lifecycle_|INIT_CWD$)/.test(name)) env[name] = value;
  }
  // Keygate reads .env and these from the environment: none may leak in from the test process.
  for (const name of ['HOST', 'PORT', 'BASE_URL', 'AUTH_HOST', 'ISSUER_URL', 'CLIENT_ID', 'CLIENT_SECRET', 'AUDIENCE', 'SCOPE', 'REDIS_URL', 'SECRET_KEY', 'DEV_USERS']) delete env[name];
  return { ...env, ...extra };
}

/** Runs a command to its end within `timeoutMs`; rejects with its output when it fails. */
export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd, env: options.env ?? userEnv({}), timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed${error.killed ? ` (killed after ${options.timeoutMs} ms)` : ''}: ${error.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface Background {
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a long-running process; `stop()` ends it by PID (SIGTERM, then SIGKILL after 3 s). */
export function background(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Background {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = once(child, 'exit');
  child.once('exit', () => running.delete(child));
  return {
    pid: child.pid!,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, context: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last: ${String(last)})` : ''}\n${context()}`);
}
