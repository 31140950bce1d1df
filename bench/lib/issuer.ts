/** A tiny fake OpenID issuer on loopback: discovery and JWKS only (no login), enough for every verifier. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeIssuer {
  issuer: string;
  jwksUri: string;
  /** JWKS fetches served so far (a verifier that re-fetches per request would show here). */
  jwksHits: () => number;
  setJwks(jwks: unknown): void;
  close(): Promise<void>;
}

export async function startFakeIssuer(port = 0): Promise<FakeIssuer> {
  let jwks: unknown = { keys: [] };
  let hits = 0;
  let issuer = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    let body: unknown;
    if (path === '/.well-known/openid-configuration') {
      body = {
        issuer,
        jwks_uri: `${issuer}.well-known/jwks.json`,
        authorization_endpoint: `${issuer}authorize`,
        token_endpoint: `${issuer}oauth/token`,
        end_session_endpoint: `${issuer}logout`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
      };
    } else if (path === '/.well-known/jwks.json') {
      hits++;
      body = jwks;
    }
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    issuer,
    jwksUri: `${issuer}.well-known/jwks.json`,
    jwksHits: () => hits,
    setJwks(value) {
      jwks = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
