/** What every bench server shares: its environment, the fixture, and the "listening" handshake with the runner. */
import { readFixture, sessionOf, type BenchSession, type Fixture } from './fixtures.js';

export interface ServerEnv {
  port: number;
  fixture: Fixture;
  /** The session map every peer consults: a Map get by `sub`. */
  sessions: Map<string, BenchSession>;
}

export function serverEnv(): ServerEnv {
  const dir = process.env.BENCH_FIXTURE;
  if (!dir) throw new Error('BENCH_FIXTURE is not set');
  const fixture = readFixture(dir);
  const sessions = new Map<string, BenchSession>();
  for (let i = 0; i < fixture.tokens.length; i++) sessions.set(`user-${i}`, sessionOf(i));
  return { port: Number(process.env.PORT ?? 0), fixture, sessions };
}

/** The same JSON schema for every Fastify peer's answer. */
export const profileSchema = {
  type: 'object',
  properties: {
    sub: { type: 'string' },
    email: { type: 'string' },
    email_verified: { type: 'boolean' },
    name: { type: 'string' },
    picture: { type: 'string' },
    exp: { type: 'integer' },
  },
  required: ['sub', 'exp'],
} as const;

/** Tells the runner where the server listens, and exits cleanly on SIGTERM (so --cpu-prof writes its file). */
export function announce(port: number, close: () => Promise<unknown>): void {
  process.stdout.write(`LISTENING ${port}\n`);
  const stop = () => {
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** The route schema of the Fastify peers: the profile on 200, `{ error }` on 401. */
export const routeSchema = {
  response: { 200: profileSchema, 401: { type: 'object', properties: { error: { type: 'string' } } } },
} as const;
