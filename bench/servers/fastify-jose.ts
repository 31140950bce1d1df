/** Peer: Fastify + jose (createRemoteJWKSet, no token cache): verify RS256 (iss, aud, exp), Map get, same answer. */
import Fastify from 'fastify';
import * as jose from 'jose';
import { announce, routeSchema, serverEnv } from '../lib/serve.js';

const { port, sessions, fixture } = serverEnv();
const jwks = jose.createRemoteJWKSet(new URL(`${fixture.issuer}.well-known/jwks.json`));
const options: jose.JWTVerifyOptions = { issuer: fixture.issuer, audience: fixture.audience, algorithms: ['RS256'] };
const app = Fastify({ logger: false });
app.get('/protected', { schema: routeSchema }, async (request, reply) => {
  const header = request.headers.authorization;
  if (!header?.startsWith('Bearer ')) return reply.code(401).send({ error: 'invalid_request' });
  let payload: jose.JWTPayload;
  try {
    ({ payload } = await jose.jwtVerify(header.slice(7), jwks, options));
  } catch {
    return reply.code(401).send({ error: 'invalid_token' });
  }
  const session = sessions.get(payload.sub!);
  if (session === undefined) return reply.code(401).send({ error: 'invalid_token' });
  return { ...session, exp: payload.exp };
});
await app.listen({ host: '127.0.0.1', port });
announce((app.server.address() as { port: number }).port, () => app.close());
