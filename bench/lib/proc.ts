/** Child processes of the bench: servers pinned to core 0, wrk pinned to core 1 (when taskset and 2 cores exist). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

/** Children alive right now, stopped when the bench is interrupted (Ctrl-C) so no server outlives it. */
const live = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of live) child.kill('SIGKILL');
    process.exit(130);
  });
}

/** Registers a child the bench started itself (redis-server), so an interrupted bench stops it too. */
export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
const taskset = spawnSync('taskset', ['--version']).status === 0;
export const PINNED = taskset && availableParallelism() >= 2;
/** `argv` under `taskset -c <core>` when pinning is possible. */
export const pin = (core: number, argv: string[]) => (PINNED ? ['taskset', '-c', String(core), ...argv] : argv);

export interface RunningServer {
  pid: number;
  port: number;
  /** Resident set size now, in bytes (from /proc; 0 when unavailable). */
  rss(): number;
  /** CPU time used so far by all its threads (user + system), in microseconds (from /proc; 0 when unavailable). */
  cpuUs(): number;
  stop(): Promise<void>;
}

/** CPU time used so far by a process and all its threads (user + system), in microseconds (0 once it is gone). */
export function processCpuUs(pid: number): number {
  try {
    // Fields after the command name: state is field 3, utime 14 and stime 15 (clock ticks, normally 100 Hz).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Busy CPU time of the whole machine so far (every core: user, nice, system, irq, softirq, steal), in microseconds. */
export function machineBusyUs(): number {
  try {
    const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).map(Number);
    return ((user! + nice! + system! + irq! + softirq! + (steal ?? 0)) * 1e6) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Starts `bench/servers/<name>.ts` (or the script at an absolute path) with tsx and waits for its LISTENING line. */
export function startServer(name: string, env: Record<string, string>, nodeArgs: string[] = [], core = 0): Promise<RunningServer> {
  const script = name.startsWith('/') ? name : fileURLToPath(new URL(`../servers/${name}.ts`, import.meta.url));
  return spawnServer(name, [...nodeArgs, '--import', 'tsx', script], { env: { ...process.env, ...env, PORT: '0' }, ready: /LISTENING (\d+)/, core });
}

export interface SpawnOptions {
  /** The child's whole environment (nothing else is passed on). */
  env: Record<string, string | undefined>;
  cwd?: string;
  /** A line on stdout that says the server listens; its first group is the port. */
  ready: RegExp;
  /** The core to pin it to (0, the measured server's; 1 is wrk's, for helpers such as the proxy rows' upstream). */
  core?: number;
}

/** Starts `node <args>` pinned to core 0 (or `options.core`) and waits until its stdout matches `ready`. */
export async function spawnServer(name: string, nodeArgs: string[], options: SpawnOptions): Promise<RunningServer> {
  const argv = pin(options.core ?? 0, [process.execPath, ...nodeArgs]);
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { env: options.env, ...(options.cwd ? { cwd: options.cwd } : {}), stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name}: not listening within 60 s\n${out.slice(-2000)}${stderr}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const match = options.ready.exec(out);
      if (match) {
        clearTimeout(timer);
        // The server keeps writing (Keygate's log): drain it without keeping it.
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(Number(match[1]));
      } else if (out.length > 100_000) out = out.slice(-10_000);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening\n${out.slice(-2000)}${stderr}`));
    });
  });
  const pid = child.pid!;
  return {
    pid,
    port,
    rss() {
      try {
        const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
        return kb ? Number(kb) * 1024 : 0;
      } catch {
        return 0;
      }
    },
    cpuUs: () => processCpuUs(pid),
    stop() {
      if (child.exitCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      });
    },
  };
}

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  statusErrors: number;
  socketErrors: number;
  /** CPU time wrk used (user + system, µs), polled while it ran: a few hundred ms at the end may be missing. */
  wrkCpuUs: number;
}

const WRK_SCRIPT = fileURLToPath(new URL('../wrk/tokens.lua', import.meta.url));

export function hasWrk(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}

/** Runs wrk (one thread, `connections` connections) against GET /protected with the tokens of `tokensFile`. */
export async function runWrk(port: number, tokensFile: string, seconds: number, connections: number, path = '/protected', env: Record<string, string> = {}): Promise<LoadResult> {
  const argv = pin(1, ['wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', WRK_SCRIPT, `http://127.0.0.1:${port}${path}`]);
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env, BENCH_TOKENS: tokensFile, BENCH_PATH: path }, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  let wrkCpuUs = 0;
  const poll = setInterval(() => (wrkCpuUs = Math.max(wrkCpuUs, processCpuUs(child.pid!))), 200);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(poll);
  const line = /WRK_JSON (\{.*\})/.exec(out)?.[1];
  if (code !== 0 || !line) throw new Error(`wrk failed (${code}): ${out.slice(0, 2000)}`);
  const r = JSON.parse(line) as { requests: number; duration_us: number; status_errors: number; socket_errors: number; p50_us: number; p99_us: number };
  return {
    rps: r.requests / (r.duration_us / 1e6),
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    requests: r.requests,
    statusErrors: r.status_errors,
    socketErrors: r.socket_errors,
    wrkCpuUs,
  };
}
