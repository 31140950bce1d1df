import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDevIdp } from './factory.js';
import { errorPage } from './pages.js';
import { sendHtml } from './security.js';
import type { DevIdp, DevIdpOptions } from './types.js';

export interface StartDevIdpOptions extends Omit<DevIdpOptions, 'issuer'> {
  /** Interface to bind, default '127.0.0.1'. */
  host?: string;
  /** Port, default 0 (a random free port). */
  port?: number;
  /** Optional issuer path, e.g. '/idp' (default: none). */
  path?: string;
}

export interface RunningDevIdp {
  /** The issuer, computed from the bound address: `http://<host>:<port><path>`. */
  issuer: string;
  idp: DevIdp;
  /** Stops listening and closes every open connection. */
  close(): Promise<void>;
}

/** Serves the development IdP alone on host:port (port 0 = random); the issuer is chosen from the bound port. */
export async function startDevIdp(options: StartDevIdpOptions): Promise<RunningDevIdp> {
  const { host = '127.0.0.1', port = 0, path = '', ...rest } = options;
  let idp: DevIdp | undefined;
  const server = createServer((req, res) => {
    if (idp) idp.handler(req, res);
    else sendHtml(res, 503, errorPage('', 'Starting', 'The development provider is starting.'), []);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: boundPort } = server.address() as AddressInfo;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  const suffix = path ? `/${path.replace(/^\/+|\/+$/g, '')}` : '';
  const issuer = `http://${hostInUrl}:${boundPort}${suffix}`;
  try {
    idp = createDevIdp({ ...rest, issuer });
  } catch (error) {
    server.close();
    throw error;
  }
  return {
    issuer,
    idp,
    close: () => new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    }),
  };
}
