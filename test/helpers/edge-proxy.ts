/**
 * Real nginx and Caddy for the edge tests, started with the very configuration files shipped in deploy/: each on a
 * free loopback port, in its own temporary directory, stopped by PID (also when the test process exits early).
 * A missing binary fails the test with what to install; nothing is skipped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from './agent.js';
import { throughProvider } from './keygate.js';
import { freePort } from './net.js';

export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';
export const CADDY = process.env.CADDY_PATH ?? '/usr/bin/caddy';
export const NGINX_CONF = fileURLToPath(new URL('../../deploy/nginx/keygate.conf', import.meta.url));
export const CADDYFILE = fileURLToPath(new URL('../../deploy/caddy/Caddyfile', import.meta.url));

/** Where the proxy sends its auth requests and the requests it lets through: `host:port` each. */
export interface ProxyTargets {
  keygate: string;
  /** The path of Keygate's BASE_URL ('' or e.g. '/keygate'). */
  keygatePath?: string;
  upstream: string;
}

export interface RunningProxy {
  name: 'nginx' | 'caddy';
  port: number;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  pid: number;
  /** What the proxy wrote to stdout and stderr (its error log), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A test process that ends without its after() hooks (a crash, a timeout) leaves no proxy behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function requireBinary(path: string, name: string, variable: string, aptPackage: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${name} is not installed at ${path}: run "bash scripts/test-deps.sh" (apt-get install ${aptPackage}) or set ${variable}`);
  }
}

/**
 * Fills `${NAME}` placeholders as `envsubst '${A} ${B}'` does: only the names given, so nginx's own `$variables`
 * stay. A placeholder of the file that no value fills is an error (the file and the test would have drifted apart).
 */
export function fillPlaceholders(text: string, values: Record<string, string>): string {
  const filled = text.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => values[name] ?? whole);
  const left = [...new Set(filled.match(/\$\{[A-Z_]+\}/g) ?? [])];
  if (left.length > 0) throw new Error(`placeholders without a value: ${left.join(', ')}`);
  return filled;
}

/** nginx with deploy/nginx/keygate.conf included in a minimal nginx.conf: one process, logs to stderr, temp files in its directory. */
export async function startNginx(targets: ProxyTargets): Promise<RunningProxy> {
  requireBinary(NGINX, 'nginx', 'NGINX_PATH', 'nginx-light');
  const port = await freePort();
  const site = fillPlaceholders(readFileSync(NGINX_CONF, 'utf8'), {
    LISTEN: `127.0.0.1:${port}`,
    KEYGATE: targets.keygate,
    KEYGATE_PATH: targets.keygatePath ?? '',
    APP_ADDRESS: targets.upstream,
  });
  const dir = mkdtempSync(join(tmpdir(), 'keygate-nginx-'));
  writeFileSync(join(dir, 'keygate.conf'), site);
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      // One process: no master/worker split, so no user switch when the tests run as root, and one PID to stop.
      'daemon off;',
      'master_process off;',
      `pid ${join(dir, 'nginx.pid')};`,
      'error_log stderr warn;',
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(dir, kind)};`),
      `  include ${join(dir, 'keygate.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  return launch('nginx', NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], {}, port, dir);
}

/** Caddy running deploy/caddy/Caddyfile itself, its settings in the environment variables the file reads. */
export async function startCaddy(targets: ProxyTargets): Promise<RunningProxy> {
  requireBinary(CADDY, 'caddy', 'CADDY_PATH', 'caddy');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'keygate-caddy-'));
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'config'));
  const env = {
    SITE: `http://127.0.0.1:${port}`,
    CADDY_BIND: '127.0.0.1',
    CADDY_ADMIN: 'off',
    KEYGATE: targets.keygate,
    KEYGATE_PATH: targets.keygatePath ?? '',
    APP_ADDRESS: targets.upstream,
    // Caddy's own storage, away from the user's home.
    HOME: dir,
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CONFIG_HOME: join(dir, 'config'),
  };
  return launch('caddy', CADDY, ['run', '--config', CADDYFILE, '--adapter', 'caddyfile'], env, port, dir);
}

async function launch(name: RunningProxy['name'], binary: string, args: string[], env: Record<string, string>, port: number, dir: string): Promise<RunningProxy> {
  const child = spawn(binary, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = once(child, 'exit');
  child.once('exit', () => running.delete(child));

  async function stop(): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  }

  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not listen on 127.0.0.1:${port} (exit ${child.exitCode ?? child.signalCode}):\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { name, port, origin: `http://127.0.0.1:${port}`, pid: child.pid!, output: () => output, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(200, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => done(true));
  });
}

/**
 * A browser's first visit to `start` (a page behind the proxy) without a session: the proxy's answer must be a 302
 * to Keygate's login, which is followed through the real provider back to `start`. A browser sends 127.0.0.1's
 * cookies to every port, so Keygate's origin and the proxy's share one jar.
 */
export async function loginThroughProxy(start: URL, keygateHost: string, email: string, password: string): Promise<{ login: URL; response: Response; url: URL }> {
  const agent = new Agent({ accept: 'text/html,application/xhtml+xml' });
  const jar = new Map<string, string>();
  agent.jar.set(keygateHost, jar);
  agent.jar.set(start.host, jar);
  const first = await agent.request(start);
  const body = await first.text();
  const location = first.headers.get('location');
  if (first.status !== 302 || location === null) throw new Error(`${start.href} answered ${first.status}, not a redirect to the login: ${body.slice(0, 300)}`);
  const login = new URL(location);
  const { response, url } = await throughProvider(agent, login, email, password);
  return { login, response, url };
}
