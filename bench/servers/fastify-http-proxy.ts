/** Ceiling of the proxy mode: Fastify + @fastify/http-proxy in front of the bench's upstream, with no authentication. */
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';
import { announce } from '../lib/serve.js';

const upstream = process.env.BENCH_UPSTREAM;
if (!upstream) throw new Error('BENCH_UPSTREAM is not set');
const app = Fastify({ logger: false });
await app.register(proxy, { upstream, http2: false });
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
announce((app.server.address() as { port: number }).port, () => app.close());
