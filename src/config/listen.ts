import { isLoopbackHost, parseUrl } from '../keygate/validate.js';
import type { EnvReader } from './env.js';
import type { ServerConfig } from './types.js';

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;

type Listen = Pick<ServerConfig, 'host' | 'port' | 'baseUrl' | 'secure' | 'debug' | 'logLevel' | 'logFormat' | 'corsOrigins'>;

/** Where Keygate listens and how it presents itself: `HOST`, `PORT`, `BASE_URL`, `DEBUG`, `LOG_LEVEL`, `LOG_FORMAT`, `CORS_ORIGINS`. */
export function parseListen(r: EnvReader, mode: ServerConfig['mode']): Listen {
  const host = r.read('HOST') ?? 'localhost';
  const port = r.int('PORT', 5000, 0, 65535);
  const debug = r.bool('DEBUG', mode === 'dev');

  // HOST: a host name, an IPv4 address or an IPv6 address (optionally in brackets); nothing else.
  const hostForUrl = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const hostOk =
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(host) ||
    (/^\[?[0-9a-f:.]+\]?$/i.test(host) && parseUrl(`http://${hostForUrl}/`) !== undefined);
  if (!hostOk) r.problems.push(`HOST: expected a host name or IP address, got "${host}"`);
  // A wildcard address is where to listen, not an address a browser can visit: it is served as localhost.
  const wildcard = host === '0.0.0.0' || host === '::' || host === '[::]';
  let baseUrl = new URL(hostOk && !wildcard ? `http://${hostForUrl}:${port}` : `http://localhost:${port}`);

  // BASE_URL: the public URL (callback, cookies). Defaults to http://HOST:PORT.
  const baseSetting = r.read('BASE_URL');
  if (baseSetting !== undefined) {
    const parsed = parseUrl(baseSetting);
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      r.problems.push(`BASE_URL: expected an absolute http(s) URL, got "${baseSetting}"`);
    } else if (parsed.search || parsed.hash || parsed.username || parsed.password) {
      r.problems.push('BASE_URL: must not carry a query, fragment or credentials');
    } else if (!/^(\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*\/?$/.test(parsed.pathname) || /\/\.\.?(\/|$)/.test(parsed.pathname)) {
      r.problems.push(`BASE_URL: the path "${parsed.pathname}" must be plain segments (letters, digits, "-", "_", "~", ".") such as /keygate`);
    } else if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname) && mode === 'provider') {
      r.problems.push(`BASE_URL: plain http is only allowed for loopback hosts; use https for "${parsed.host}"`);
    } else {
      // A path (https://app.example.com/keygate) mounts every route under it; kept without a trailing slash.
      baseUrl = new URL(parsed.origin + parsed.pathname.replace(/\/+$/, ''));
    }
  } else if (mode === 'provider' && hostOk && !isLoopbackHost(host)) {
    r.problems.push(`BASE_URL: required (an https URL) when HOST "${host}" is not a loopback address, so that cookies are Secure and the callback URL is right`);
  }

  const logLevel = (r.read('LOG_LEVEL') ?? (debug ? 'debug' : 'info')).toLowerCase();
  if (!LOG_LEVELS.has(logLevel)) r.problems.push(`LOG_LEVEL: expected one of ${[...LOG_LEVELS].join(', ')}, got "${logLevel}"`);

  const logFormat = (r.read('LOG_FORMAT') ?? 'auto').trim().toLowerCase() as ServerConfig['logFormat'];
  if (!LOG_FORMATS.includes(logFormat)) r.problems.push(`LOG_FORMAT: expected one of ${LOG_FORMATS.join(', ')}, got "${logFormat}"`);

  return { host, port, baseUrl, secure: baseUrl.protocol === 'https:', debug, logLevel, logFormat, corsOrigins: parseCors(r) };
}

/** `CORS_ORIGINS`: `*` (default) or a comma list of exact origins. */
function parseCors(r: EnvReader): ServerConfig['corsOrigins'] {
  const setting = r.read('CORS_ORIGINS');
  if (setting === undefined || setting === '*') return '*';
  const origins: string[] = [];
  for (const entry of setting.split(',').map((s) => s.trim()).filter(Boolean)) {
    const parsed = parseUrl(entry);
    if (!parsed || parsed.origin === 'null' || parsed.origin !== entry.replace(/\/$/, '')) {
      r.problems.push(`CORS_ORIGINS: "${entry}" is not an origin (scheme://host[:port])`);
    } else origins.push(parsed.origin);
  }
  return Object.freeze(origins);
}
