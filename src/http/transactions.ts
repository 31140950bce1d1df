import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LoginTransaction } from '../oidc/login.js';
import type { RouteContext } from './context.js';

/** How long a login may take between `/login` and `/callback`, in seconds (the cookie and its sealed value). */
export const TRANSACTION_TTL = 600;

/**
 * Logins one browser may have in progress at once (several tabs): each has its own cookie, and a new login clears
 * the oldest beyond this, so the cookie header stays small.
 */
export const MAX_TRANSACTIONS = 5;

/**
 * Transaction cookies opened when a login starts. A browser holds at most MAX_TRANSACTIONS (a few more after
 * concurrent starts); a flood of forged names costs a bounded amount of work and of Set-Cookie lines.
 */
const MAX_EXAMINED = 2 * MAX_TRANSACTIONS;

type Jar = Pick<RouteContext, 'cookies' | 'transactions'>;

function asTransaction(payload: Record<string, unknown> | undefined): LoginTransaction | undefined {
  if (payload === undefined) return undefined;
  const { state, nonce, codeVerifier, returnTo } = payload;
  if (typeof state !== 'string' || typeof nonce !== 'string' || typeof codeVerifier !== 'string' || typeof returnTo !== 'string') return undefined;
  return { state, nonce, codeVerifier, returnTo };
}

/** The login's place in this browser's order of logins (sealed, so the order cannot be forged), or undefined. */
function sequenceOf(payload: Record<string, unknown> | undefined): number | undefined {
  if (asTransaction(payload) === undefined) return undefined;
  const seq = payload!.seq;
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined;
}

/**
 * Stores a new login transaction in its own sealed cookie, named after its state. The browser's other logins stay
 * in progress, except the oldest beyond MAX_TRANSACTIONS, and any unreadable transaction cookie, which are cleared.
 * The order is a counter sealed in each transaction rather than a clock: it holds across instances and within a
 * millisecond.
 */
export async function beginTransaction({ cookies, transactions }: Jar, request: FastifyRequest, reply: FastifyReply, transaction: LoginTransaction): Promise<void> {
  const names = cookies.transactionNames(request).slice(0, MAX_EXAMINED);
  const opened = await Promise.all(names.map(async (name) => ({ name, seq: sequenceOf(await transactions.open(request.cookies[name])) })));
  const live = opened.filter((entry): entry is { name: string; seq: number } => entry.seq !== undefined).sort((a, b) => b.seq - a.seq);
  const kept = new Set(live.slice(0, MAX_TRANSACTIONS - 1).map((entry) => entry.name));
  for (const entry of opened) if (!kept.has(entry.name)) cookies.clearTransaction(reply, entry.name);
  const seq = live.length === 0 ? 0 : live[0]!.seq + 1;
  cookies.setTransaction(reply, cookies.transactionName(transaction.state), await transactions.seal({ ...transaction, seq }, TRANSACTION_TTL), TRANSACTION_TTL);
}

/**
 * The transaction of the login this callback `state` belongs to, or undefined when this browser has none (unknown
 * state, expired, already used, cleared by newer logins, forged). Single-use: its cookie is cleared whatever happens
 * next; the browser's other logins are left alone.
 */
export async function takeTransaction({ cookies, transactions }: Jar, request: FastifyRequest, reply: FastifyReply, state: string): Promise<LoginTransaction | undefined> {
  const name = cookies.transactionName(state);
  const sealed = request.cookies[name];
  if (sealed === undefined) return undefined;
  cookies.clearTransaction(reply, name);
  return asTransaction(await transactions.open(sealed));
}
