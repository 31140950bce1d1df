/**
 * Bare Fastify (the ceiling's route and answer) plus some of Keygate's security headers, set the way Keygate sets
 * them (an onSend callback hook: hasHeader, then header). BENCH_HEADERS: comma list of header names of
 * `securityHeaders` (the page set; `apiSecurityHeaders` with BENCH_HEADER_SET=api), computed with a https BASE_URL
 * so HSTS is among them; empty for none. For bench/headers.ts.
 */
import Fastify from 'fastify';
import { apiSecurityHeaders, securityHeaders } from '../../src/http/headers.js';
import { announce, profileSchema, serverEnv } from '../lib/serve.js';

const { port, sessions, fixture } = serverEnv();
const all = process.env.BENCH_HEADER_SET === 'api' ? apiSecurityHeaders({ secure: true }) : securityHeaders({ issuerUrl: fixture.issuer, secure: true });
const names = (process.env.BENCH_HEADERS ?? '').split(',').filter(Boolean);
for (const name of names) if (!(name in all)) throw new Error(`BENCH_HEADERS: ${name} is not one of ${Object.keys(all).join(', ')}`);
const entries = names.map((name) => [name, all[name]!] as const);
const exp = Math.floor(Date.now() / 1000) + 3600;
const app = Fastify({ logger: false });
if (entries.length > 0) {
  app.addHook('onSend', (_request, reply, payload, done) => {
    for (const [name, value] of entries) if (!reply.hasHeader(name)) reply.header(name, value);
    done(null, payload);
  });
}
app.get('/protected', { schema: { response: { 200: profileSchema } } }, async () => ({ ...sessions.get('user-0')!, exp }));
await app.listen({ host: '127.0.0.1', port });
announce((app.server.address() as { port: number }).port, () => app.close());
