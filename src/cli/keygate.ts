#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfigFromProcess, type ServerConfig } from '../config/index.js';
import { createLogOutput } from '../http/log-output.js';
import { startKeygate } from '../server.js';
import { checkProvider } from './check-provider.js';
import { tokenCommand } from './token.js';

const USAGE = `Usage: keygate [start] [--check-config] [--version] [--help]
       keygate token --user <email> [--password <password>] [--scope <scopes>] [--base-url <url>]

  start            start Keygate (the default)
  token            log in to a running Keygate in development mode and print the API token (keygate token --help)
  --check-config   validate the configuration (environment and .env), print it without secrets, exit
  --version        print the version
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The configuration as an operator may see it: no secrets. */
function describe(config: ServerConfig): Record<string, unknown> {
  return {
    mode: config.mode === 'dev' ? 'development (embedded provider)' : 'provider',
    issuer: config.issuerUrl,
    client_id: config.clientId,
    client_secret: config.clientSecret ? '(set)' : '(unset)',
    audience: config.audience ?? '(none: the API token is the ID token)',
    scope: config.scope,
    allowed_users: config.allowlist ? [...config.allowlist.emails, ...[...config.allowlist.domains].map((d) => `@${d}`)] : '(everyone)',
    secret_key: `${config.secretKeys.length} key(s)`,
    base_url: config.baseUrl.href,
    listen: `${config.host}:${config.port}`,
    metrics: config.metricsAddress ? `${config.metricsAddress.host}:${config.metricsAddress.port} (not on the public port)` : 'on the public port (/metrics)',
    trust_proxy: config.trustProxy,
    store: config.redis ? describeRedis(config.redis) : 'memory (lost on restart)',
    require_session: config.requireSession,
    token_algorithms: config.algorithms,
    debug: config.debug,
  };
}

/** The Redis topology without credentials. */
function describeRedis(redis: NonNullable<ServerConfig['redis']>): string {
  const nodes = (list: readonly { host: string; port: number }[]) => list.map((n) => `${n.host}:${n.port}`).join(',');
  const where = redis.clusterNodes
    ? `cluster ${nodes(redis.clusterNodes)}`
    : redis.sentinels
      ? `sentinel ${redis.sentinelName} via ${nodes(redis.sentinels)}`
      : (() => {
          const url = new URL(redis.url!);
          return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
        })();
  return `redis ${where} (prefix ${redis.prefix})`;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'token') return tokenCommand(argv.slice(1));
  const args = new Set(argv);
  if (args.has('--help') || args.has('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.has('--version') || args.has('-v')) {
    process.stdout.write(`keygate ${version()}\n`);
    return 0;
  }
  const unknown = argv.filter((a) => !['start', '--check-config'].includes(a));
  if (unknown.length > 0) {
    process.stderr.write(`keygate: unknown argument ${unknown.join(' ')}\n${USAGE}`);
    return 2;
  }
  let config: ServerConfig;
  try {
    config = loadConfigFromProcess();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`keygate: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  if (args.has('--check-config')) {
    const failure = await checkProvider(config);
    if (failure !== undefined) {
      process.stderr.write(`keygate: ${failure}\n`);
      return 1;
    }
    process.stdout.write(`Configuration is valid.\n${JSON.stringify(describe(config), null, 2)}\n`);
    return 0;
  }
  // stdout is a terminal or not: the one place that decides what `LOG_FORMAT=auto` means.
  const output = createLogOutput({ format: config.logFormat, isTTY: process.stdout.isTTY === true });
  // Log lines are written asynchronously: what is still buffered is written on any exit (signal, crash, exit()).
  process.once('exit', () => output.flush());
  const running = await startKeygate(config, { logOutput: output });
  const provider = config.mode === 'dev' ? `embedded development provider at ${config.issuerUrl}` : config.issuerUrl;
  const users = config.mode === 'dev' ? config.devUsers.map((u) => (output.format === 'pretty' ? `${u.email} / ${u.password}` : u.email)) : undefined;
  // Through the logger's destination, after everything logged so far: never cut by a log line. The development
  // users' demo passwords are shown on a terminal only, not written to a collected JSON log.
  output.banner(`Keygate ${version()} listening on ${config.baseUrl.href.replace(/\/$/, '')}`, {
    mode: config.mode === 'dev' ? 'development' : 'provider',
    provider,
    store: config.redis ? describeRedis(config.redis) : 'memory (sessions are lost on restart)',
    ...(running.metricsUrl ? { metrics: `${running.metricsUrl}/metrics (not on the public port)` } : {}),
    ...(users ? { users } : {}),
  });
  const stop = () => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`keygate: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
