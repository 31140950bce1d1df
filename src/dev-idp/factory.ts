import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider from 'oidc-provider';
import type { JWK } from 'oidc-provider';
import { AccountDirectory } from './account.js';
import { InteractionRoutes } from './interactions.js';
import { errorPage } from './pages.js';
import { buildConfiguration } from './provider-config.js';
import { securityMiddleware } from './provider-middleware.js';
import { IDP_CSS, clientOrigins, sendHtml } from './security.js';
import type { DevIdp, DevIdpOptions } from './types.js';

export const CSS_PATH = '/assets/idp.css';

/** A fresh RS256 signing key, per process. Generated synchronously so that `createDevIdp` stays synchronous. */
function generateSigningKey(): JWK {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  return { ...jwk, kid: `dev-${randomUUID()}`, use: 'sig', alg: 'RS256' };
}

function parseIssuer(issuer: string): { issuer: string; mountPath: string } {
  const url = URL.parse(issuer);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new TypeError('issuer must be an absolute http(s) URL');
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new TypeError('issuer must not have a query, a fragment or credentials');
  }
  const mountPath = url.pathname.replace(/\/+$/, '');
  return { issuer, mountPath };
}

function serveCss(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.statusCode = 405;
    res.setHeader('Allow', 'GET, HEAD');
    res.end();
    return;
  }
  const body = Buffer.from(IDP_CSS, 'utf8');
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/css; charset=utf-8');
  res.setHeader('Content-Length', String(body.length));
  res.setHeader('Cache-Control', 'public, max-age=3600');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.end(body);
}

/** Creates the embedded development OpenID Provider (not listening: mount `handler` in a node:http server). */
export function createDevIdp(options: DevIdpOptions): DevIdp {
  const { issuer, mountPath } = parseIssuer(options.issuer);
  const accounts = new AccountDirectory(options.users);
  const configuration = buildConfiguration(options, mountPath, accounts, generateSigningKey());

  const provider = new Provider(issuer, configuration);
  provider.proxy = false;
  provider.use(securityMiddleware(mountPath, options.clients));
  // Errors are answered with our HTML page already; keep the log to one line and never print request details.
  provider.on('server_error', (_ctx: unknown, error: Error) => {
    process.stderr.write(`keygate dev-idp: server error: ${error.message}\n`);
  });
  // Koa logs whole stacks for unhandled errors unless the app has an 'error' listener (the types omit that event).
  (provider as unknown as EventEmitter).on('error', (error: Error) => {
    process.stderr.write(`keygate dev-idp: ${error.message}\n`);
  });

  const callback = provider.callback();
  const interactions = new InteractionRoutes(provider, mountPath, accounts, options.clients);
  const allOrigins = clientOrigins(options.clients);

  const fail = (res: ServerResponse, error: unknown): void => {
    process.stderr.write(`keygate dev-idp: request failed: ${error instanceof Error ? error.message : String(error)}\n`);
    if (!res.headersSent) {
      sendHtml(res, 500, errorPage(mountPath, 'The development provider failed', 'Something went wrong. Try again.'), allOrigins);
    } else {
      res.destroy();
    }
  };

  function handler(req: IncomingMessage, res: ServerResponse): void {
    try {
      const original = req.url ?? '/';
      const queryAt = original.search(/[?#]/);
      const path = queryAt === -1 ? original : original.slice(0, queryAt);
      if (!path.startsWith('/') || (mountPath && path !== mountPath && !path.startsWith(`${mountPath}/`))) {
        sendHtml(res, 404, errorPage(mountPath, 'Not found', 'The development identity provider has no such page.'), allOrigins);
        return;
      }
      const innerPath = path.slice(mountPath.length) || '/';
      const rest = original.slice(mountPath.length);
      const inner = rest.startsWith('/') ? rest : `/${rest}`;

      if (innerPath === CSS_PATH) {
        serveCss(req, res);
        return;
      }
      if (InteractionRoutes.matches(innerPath)) {
        interactions.handle(req, res, innerPath).catch((error: unknown) => fail(res, error));
        return;
      }
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = original;
      req.url = inner;
      Promise.resolve(callback(req, res)).catch((error: unknown) => fail(res, error));
    } catch (error) {
      fail(res, error);
    }
  }

  return { handler, mountPath, provider };
}
