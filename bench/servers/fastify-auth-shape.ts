/**
 * Ceiling of forward auth: a bare Fastify `/auth` that reads nothing and answers what Keygate's `/auth` answers on
 * success (cache-control, the user and e-mail, a fixed 400-character assertion), to the same request (wrk sends the
 * forwarding headers to any `/auth` path). What is left between it and Keygate is Keygate's own work.
 */
import Fastify from 'fastify';
import { announce, serverEnv } from '../lib/serve.js';

const { port, sessions } = serverEnv();
const user = sessions.get('user-0')!;
const assertion = `eyJhbGciOiJFUzI1NiJ9.${'x'.repeat(300)}.${'y'.repeat(86)}`;
const app = Fastify({ logger: false });
app.get('/auth', async (_request, reply) =>
  reply.header('cache-control', 'no-store').header('x-auth-request-user', user.sub).header('x-auth-request-email', user.email).header('x-keygate-assertion', assertion).send());
await app.listen({ host: '127.0.0.1', port });
announce((app.server.address() as { port: number }).port, () => app.close());
