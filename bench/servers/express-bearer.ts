/** Peer: Express + express-oauth2-jwt-bearer (Auth0's middleware; discovery + JWKS); Map get, same answer. */
import express from 'express';
import { auth, type AuthResult } from 'express-oauth2-jwt-bearer';
import type { AddressInfo } from 'node:net';
import { announce, serverEnv } from '../lib/serve.js';

const { port, sessions, fixture } = serverEnv();
const app = express();
app.disable('x-powered-by');
app.get('/protected', auth({ issuerBaseURL: fixture.issuer, audience: fixture.audience, tokenSigningAlg: 'RS256' }), (req, res) => {
  // keygate/express augments `req.auth` with its own type in this project; this peer sets Auth0's AuthResult there.
  const payload = (req as unknown as { auth: AuthResult }).auth.payload;
  const session = sessions.get(payload.sub!);
  if (session === undefined) {
    res.status(401).json({ error: 'invalid_token' });
    return;
  }
  res.json({ ...session, exp: payload.exp });
});
app.use((err: { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
  res.status(err.status ?? 500).json({ error: 'invalid_token' });
});
const server = app.listen(port, '127.0.0.1', () => announce((server.address() as AddressInfo).port, () => new Promise((r) => server.close(r))));
