/**
 * Peer: Fastify + @fastify/jwt (fast-jwt) with its verified-token cache on (BENCH_PEER_CACHE=0 turns it off),
 * keys from get-jwks against the fake issuer's JWKS; verify RS256 (iss, aud, exp), Map get, same answer.
 */
import Fastify from 'fastify';
import fastifyJwt from '@fastify/jwt';
import buildGetJwks from 'get-jwks';
import { announce, routeSchema, serverEnv } from '../lib/serve.js';

const { port, sessions, fixture } = serverEnv();
const getJwks = buildGetJwks({ issuersWhitelist: [fixture.issuer], providerDiscovery: false, jwksPath: '.well-known/jwks.json' });
const app = Fastify({ logger: false });
await app.register(fastifyJwt, {
  decode: { complete: true },
  secret: (_request: unknown, token: unknown) => {
    const { header, payload } = token as { header: { kid: string; alg: string }; payload: { iss: string } };
    return getJwks.getPublicKey({ kid: header.kid, alg: header.alg, domain: payload.iss });
  },
  verify: { cache: process.env.BENCH_PEER_CACHE !== '0', allowedIss: fixture.issuer, allowedAud: fixture.audience, algorithms: ['RS256'] },
});
app.get('/protected', { schema: routeSchema }, async (request, reply) => {
  let user: { sub: string; exp: number };
  try {
    user = await request.jwtVerify<{ sub: string; exp: number }>();
  } catch {
    return reply.code(401).send({ error: 'invalid_token' });
  }
  const session = sessions.get(user.sub);
  if (session === undefined) return reply.code(401).send({ error: 'invalid_token' });
  return { ...session, exp: user.exp };
});
await app.listen({ host: '127.0.0.1', port });
announce((app.server.address() as { port: number }).port, () => app.close());
