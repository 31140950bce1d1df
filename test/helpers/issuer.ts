import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';

type CryptoKey = Awaited<ReturnType<typeof jose.generateKeyPair>>['privateKey'];

export interface LocalIssuer {
  /** `http://127.0.0.1:<port>`: discovery at `/.well-known/openid-configuration`, keys at `/jwks`. */
  issuer: string;
  /** Requests served, by path (to see what is fetched once and what is not). */
  hits: Map<string, number>;
  /** A real RS256 JWT signed with the published key; `claims` override the defaults (iss, aud, sub, iat, exp). */
  mint(claims?: jose.JWTPayload, options?: { key?: CryptoKey; kid?: string; alg?: string; typ?: string }): Promise<string>;
  /** A key pair that is not published, with the same kid (for bad signatures). */
  foreignKey: CryptoKey;
  close(): Promise<void>;
}

/**
 * A minimal OpenID Provider for resource-server tests: a key pair generated here, its public half served as a JWKS
 * on loopback with a discovery document, and a signer for tokens. Real HTTP, real jose; nothing mocked.
 */
export async function startLocalIssuer(audience: string): Promise<LocalIssuer> {
  const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const foreign = await jose.generateKeyPair('RS256');
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const hits = new Map<string, number>();
  let issuer = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/.well-known/openid-configuration') {
      json({
        issuer,
        jwks_uri: `${issuer}/jwks`,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    } else if (path === '/jwks') json({ keys: [jwk] });
    else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    hits,
    foreignKey: foreign.privateKey,
    async mint(claims = {}, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new jose.SignJWT({ iss: issuer, aud: audience, sub: 'user-1', iat: now, exp: now + 300, ...claims })
        .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? 'k1', ...(options.typ ? { typ: options.typ } : {}) })
        .sign(options.key ?? privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
