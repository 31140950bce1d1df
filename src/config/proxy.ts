import type { EnvReader } from './env.js';
import type { ServerConfig } from './types.js';

type Proxy = Pick<ServerConfig, 'upstream' | 'upstreamTimeoutMs'>;

/**
 * `UPSTREAM` (reverse-proxy mode: an http or https origin) and `UPSTREAM_TIMEOUT_MS`. A path, query or credentials
 * in `UPSTREAM` are refused rather than half-honoured: requests keep their own path, so a path there would be
 * silently dropped.
 */
export function parseProxy(r: EnvReader, baseUrl: URL): Proxy {
  const upstreamTimeoutMs = r.int('UPSTREAM_TIMEOUT_MS', 30_000, 100, 3_600_000);
  const setting = r.read('UPSTREAM');
  if (setting === undefined) return { upstream: undefined, upstreamTimeoutMs };
  let url: URL;
  try {
    url = new URL(setting);
  } catch {
    r.problems.push(`UPSTREAM: "${setting}" is not a URL; give an origin such as http://127.0.0.1:8080`);
    return { upstream: undefined, upstreamTimeoutMs };
  }
  const problem =
    url.protocol !== 'http:' && url.protocol !== 'https:' ? 'must be an http:// or https:// origin'
    : url.username !== '' || url.password !== '' ? 'must not carry credentials'
    : url.pathname !== '/' || url.search !== '' || url.hash !== '' ? `must be an origin without a path, query or fragment (requests keep their own path; "${url.pathname}${url.search}" would be dropped)`
    : url.origin === baseUrl.origin ? "is Keygate's own origin (BASE_URL): every request would come back to Keygate"
    : undefined;
  if (problem !== undefined) {
    r.problems.push(`UPSTREAM: "${setting}" ${problem}`);
    return { upstream: undefined, upstreamTimeoutMs };
  }
  return { upstream: new URL(url.origin), upstreamTimeoutMs };
}

