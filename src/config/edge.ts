import { readFileSync } from 'node:fs';
import { checkRouteRules } from '../edge/rules.js';
import type { EnvReader } from './env.js';
import type { ServerConfig } from './types.js';

type Edge = Pick<ServerConfig, 'routes' | 'allowedRedirectHosts' | 'cookieDomain'>;

const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** `ROUTES` (a JSON file, read once here), `ALLOWED_REDIRECT_HOSTS` and `COOKIE_DOMAIN`; every problem named. */
export function parseEdge(r: EnvReader, baseUrl: URL): Edge {
  return { routes: parseRoutes(r), allowedRedirectHosts: parseRedirectHosts(r, baseUrl), cookieDomain: parseCookieDomain(r, baseUrl) };
}

function parseRoutes(r: EnvReader): ServerConfig['routes'] {
  const file = r.read('ROUTES');
  if (file === undefined) return Object.freeze([]);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    r.problems.push(`ROUTES: the file "${file}" cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return Object.freeze([]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    r.problems.push(`ROUTES: the file "${file}" is not valid JSON (${(error as Error).message})`);
    return Object.freeze([]);
  }
  return checkRouteRules('ROUTES', value, r.problems);
}

function parseRedirectHosts(r: EnvReader, baseUrl: URL): readonly string[] {
  const entries = r.list('ALLOWED_REDIRECT_HOSTS');
  if (entries === undefined) return Object.freeze([baseUrl.host]);
  const hosts: string[] = [];
  for (const entry of entries.map((e) => e.toLowerCase())) {
    const match = /^(.+?)(?::(\d{1,5}))?$/.exec(entry);
    const host = match?.[1] ?? '';
    const port = match?.[2];
    const hostOk = HOST_NAME.test(host) || /^\[[0-9a-f:.]+\]$/.test(host);
    if (!hostOk || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
      r.problems.push(`ALLOWED_REDIRECT_HOSTS: "${entry}" is not a host or host:port (no scheme, path or wildcard)`);
    } else hosts.push(entry);
  }
  return Object.freeze(hosts);
}

function parseCookieDomain(r: EnvReader, baseUrl: URL): string | undefined {
  const setting = r.read('COOKIE_DOMAIN');
  if (setting === undefined) return undefined;
  const domain = setting.toLowerCase().replace(/^\./, '');
  if (!HOST_NAME.test(domain) || !domain.includes('.') || /^[0-9.]+$/.test(domain)) {
    r.problems.push(`COOKIE_DOMAIN: "${setting}" is not a domain name with at least two labels`);
    return undefined;
  }
  const host = baseUrl.hostname.toLowerCase();
  if (host !== domain && !host.endsWith(`.${domain}`)) {
    r.problems.push(`COOKIE_DOMAIN: "${domain}" is not BASE_URL's host "${host}" or a parent of it, so browsers would refuse the cookie`);
    return undefined;
  }
  return domain;
}
