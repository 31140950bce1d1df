/** Ceiling: a bare Fastify route, no verification; the same Map get and schema-serialized answer. */
import Fastify from 'fastify';
import { announce, profileSchema, serverEnv } from '../lib/serve.js';

const { port, sessions } = serverEnv();
const exp = Math.floor(Date.now() / 1000) + 3600;
const app = Fastify({ logger: false });
app.get('/protected', { schema: { response: { 200: profileSchema } } }, async () => ({ ...sessions.get('user-0')!, exp }));
await app.listen({ host: '127.0.0.1', port });
announce((app.server.address() as { port: number }).port, () => app.close());
