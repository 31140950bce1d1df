import { isIP } from 'node:net';
import type { EnvReader } from './env.js';
import type { ServerConfig } from './types.js';

/**
 * `METRICS_ADDRESS`: `host:port` (`127.0.0.1:9464`, `[::1]:9464`, `0.0.0.0:9464`) of a separate listener for
 * `GET /metrics`, which then is not served on the public port. Unset: `/metrics` on the public port, as before.
 */
export function parseMetricsAddress(r: EnvReader, publicListen: Pick<ServerConfig, 'host' | 'port'>): ServerConfig['metricsAddress'] {
  const value = r.read('METRICS_ADDRESS');
  if (value === undefined) return undefined;
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const host = match?.[1]!.replace(/^\[|\]$/g, '');
  const port = Number(match?.[2]);
  const hostOk = host !== undefined && (isIP(host) !== 0 || /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(host));
  if (!match || !hostOk || port > 65535) {
    r.problems.push(`METRICS_ADDRESS: expected host:port such as 127.0.0.1:9464 or [::1]:9464, got "${value}"`);
    return undefined;
  }
  if (port !== 0 && port === publicListen.port) {
    r.problems.push(`METRICS_ADDRESS: port ${port} is the public PORT; give /metrics a port of its own`);
    return undefined;
  }
  return Object.freeze({ host: host!, port });
}
