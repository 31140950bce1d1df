import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { startHostileOp, type HostileOp } from './hostile-op.js';
import { keygateAgainst, login, startLogin, authorizeAtOp, cookieHeader, type KeygateUnderTest } from './harness.js';
import { b64u } from './jws.js';

/**
 * A bounded, seeded fuzz test: 20,000 mutated tokens, Authorization headers, cookies and callback queries through
 * app.inject. No answer may be a 5xx, nothing may throw, and the session store must not grow. The seed is in the
 * test name; FUZZ_SEED=<n> replays another run.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261128) >>> 0;
const ROUNDS = 20_000;

/** mulberry32: small, fast, good enough to pick mutations reproducibly. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fuzz', () => {
  let op: HostileOp;
  let kg: KeygateUnderTest;
  let token: string;
  let cookie: string;

  before(async () => {
    op = await startHostileOp();
    // Limits off: the fuzz is about parsing, not about being throttled.
    kg = await keygateAgainst(op, { RATE_LIMIT_LOGIN: 'off', RATE_LIMIT_CALLBACK: 'off', RATE_LIMIT_BEARER_FAILURES: 'off' });
    ({ token, cookie } = await login(kg));
  });
  after(async () => {
    await kg.close();
    await op.close();
  });

  it(`FZ-01 ${ROUNDS.toLocaleString('en')} mutated tokens, headers, cookies and callback queries (seed ${SEED}): no 5xx, no throw, no store growth`, async () => {
    const random = prng(SEED);
    const int = (n: number) => Math.floor(random() * n);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
    const char = (chars: string): string => chars[int(chars.length)]!;
    // Header-safe characters only (a client cannot send others): tab, printable ASCII, some Latin-1.
    const CHARS = '\tABCxyz019-_.=+/ ~!"#$%&\'()*,;:<>?@[\\]^`{|}\u00e9\u00ff';
    const mutate = (s: string): string => {
      let out = s;
      for (let n = 1 + int(3); n > 0; n--) {
        const i = int(out.length + 1);
        switch (int(7)) {
          case 0: out = out.slice(0, i) + char(CHARS) + out.slice(i + 1); break; // replace
          case 1: out = out.slice(0, i) + out.slice(i + 1); break; // delete
          case 2: out = out.slice(0, i) + char(CHARS) + out.slice(i); break; // insert
          case 3: out = out.slice(0, i); break; // truncate
          case 4: out = out + out.slice(int(out.length)); break; // repeat a tail
          case 5: out = out.split('.').reverse().join('.'); break; // swap segments
          default: { // re-encode one segment as standard base64 or with padding
            const parts = out.split('.');
            const j = int(parts.length);
            parts[j] = int(2) ? Buffer.from(parts[j]!, 'base64url').toString('base64') : `${parts[j]}=`;
            out = parts.join('.');
          }
        }
      }
      // Always a different string: an unchanged genuine token would be a legitimate request (and may log out).
      return out.trim() === s.trim() ? `${out.trim()}${char('.=')}` : out;
    };
    const sessionCookie = cookie.split('=')[0]!;
    const genuineValue = cookie.slice(cookie.indexOf('=') + 1);
    /** A cookie header that no longer carries the genuine session cookie (a parser trims whitespace, splits on ;). */
    const mutateCookie = (s: string): string => {
      for (;;) {
        const m = mutate(s);
        const carriesGenuine = m.split(';').some((pair) => pair.trim() === cookie || pair.includes('=') && pair.split('=')[0]!.trim() === sessionCookie && pair.slice(pair.indexOf('=') + 1).trim() === genuineValue);
        if (m.replace(/\s/g, '') !== s && !carriesGenuine) return m;
      }
    };
    const [h, p] = token.split('.') as [string, string];
    const headerJson = Buffer.from(h, 'base64url').toString();
    const payloadJson = Buffer.from(p, 'base64url').toString();
    const tokenLike = (): string => {
      switch (int(4)) {
        case 0: return mutate(token);
        case 1: return `${b64u(mutate(headerJson))}.${p}.${token.split('.')[2]}`;
        case 2: return `${h}.${b64u(mutate(payloadJson))}.${token.split('.')[2]}`;
        default: return mutate(op.idToken({ header: { alg: pick(['none', 'HS256', 'RS256', 'ES256', 'PS256', '']) } }));
      }
    };
    /** `genuine`: also mutate the whole header around the genuine token (only for requests that change nothing). */
    const authorization = (genuine: boolean): string => {
      const t = tokenLike();
      return pick([`Bearer ${t}`, `bearer  ${t} `, genuine ? mutate(`Bearer ${token}`) : `Bearer ${t}`, `${pick(['Basic', 'Token', 'DPoP', ''])} ${t}`, `Bearer ${t}, Bearer ${t}`, `Bearer\t${t}`]);
    };
    const started = await startLogin(kg);
    const query = await authorizeAtOp(started);
    const txCookie = cookieHeader(started.cookies);
    // Redeem this code once, so that no mutated query can finish a genuine login (the code is single-use).
    assert.equal((await kg.app.inject({ method: 'GET', url: `/callback?${query}`, headers: { cookie: txCookie } })).statusCode, 302);
    const before = await kg.store.stats();
    const statuses = new Map<number, number>();
    const startedAt = Date.now();

    for (let round = 0; round < ROUNDS; round++) {
      let request: InjectOptions;
      switch (int(10)) {
        case 0: case 1: case 2: case 3:
          request = { method: 'GET', url: '/protected', headers: { authorization: authorization(true) } };
          break;
        case 4:
          request = { method: 'POST', url: '/logout', headers: { authorization: authorization(false), accept: 'application/json' } };
          break;
        case 5: case 6:
          request = {
            method: 'GET',
            url: pick(['/key', '/', '/logout', '/protected']),
            headers: { cookie: pick([`${sessionCookie}=${mutateCookie(cookie.split('=')[1]!)}`, mutateCookie(cookie), `${mutateCookie(sessionCookie)}=${cookie.split('=')[1]}`, `${cookie}; ${cookie}`]) },
          };
          break;
        case 7:
          request = { method: 'POST', url: '/logout', headers: { cookie: mutateCookie(cookie), 'sec-fetch-site': pick(['same-origin', 'cross-site', 'none']) } };
          break;
        default: {
          // Callback queries: mutated values and names, with a real transaction cookie or a mutated one. The state
          // check fails first for nearly all of them, so the provider's token endpoint is rarely reached.
          const q = new URLSearchParams(query);
          const name = pick(['state', 'code', 'iss', 'error', 'error_description', 'id_token', 'junk']);
          q.set(name, mutate(q.get(name) ?? 'x'));
          if (int(4) === 0) q.append(pick(['state', 'code', 'iss']), 'dup');
          const raw = int(3) === 0 ? mutate(q.toString()) : q.toString();
          request = { method: 'GET', url: `/callback?${raw}`, headers: { accept: 'text/html', cookie: int(3) === 0 ? mutate(txCookie) : txCookie } };
        }
      }
      let status: number;
      try {
        status = (await kg.app.inject(request)).statusCode;
      } catch (error) {
        assert.fail(`round ${round} (seed ${SEED}) threw ${String(error)} for ${JSON.stringify(request).slice(0, 400)}`);
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (request.method === 'POST') {
        const now = await kg.store.stats();
        assert.deepEqual(now, before, `round ${round} (seed ${SEED}) changed the store: ${JSON.stringify(request).slice(0, 600)}`);
      }
      assert.ok(status < 500, `round ${round} (seed ${SEED}): ${status} for ${JSON.stringify(request).slice(0, 400)}`);
    }

    const afterStats = await kg.store.stats();
    assert.equal(afterStats.sessions, before.sessions, 'no session created by mutated input');
    assert.equal(afterStats.revoked, before.revoked, 'no token revoked by mutated input');
    // Still alive and still right.
    assert.equal((await kg.app.inject({ method: 'GET', url: '/protected', headers: { authorization: `Bearer ${token}` } })).statusCode, 200);
    const summary = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
    console.log(`fuzz seed ${SEED}: ${ROUNDS} requests in ${Date.now() - startedAt} ms; statuses ${summary}`);
  });
});
