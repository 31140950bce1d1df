/**
 * What TRACK_LAST_USED costs `/protected`: two Keygates in this process (memory store, development provider), one with
 * tracking and one without, the same requests through Fastify's `inject` (no network: the route's own work), in
 * alternating rounds so that a busy machine slows both alike. One token, and `ROTATING` tokens of as many logins.
 *
 *   node --import tsx bench/last-used-overhead.ts [rounds=6] [ms per round=1500] [rotating=50]
 */
import { Agent } from '../test/helpers/agent.js';
import { loginAs, startDevKeygate, type TestKeygate } from '../test/helpers/keygate.js';

const ROUNDS = Number(process.argv[2] ?? 6);
const ROUND_MS = Number(process.argv[3] ?? 1500);
const ROTATING = Number(process.argv[4] ?? 50);

async function tokens(kg: TestKeygate): Promise<string[]> {
  const found: string[] = [];
  for (let i = 0; i < ROTATING; i++) found.push((await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice')).token);
  return found;
}

/** Requests per second of GET /protected over one round, cycling through `list`. */
async function round(kg: TestKeygate, list: string[]): Promise<number> {
  let n = 0;
  const end = performance.now() + ROUND_MS;
  const started = performance.now();
  while (performance.now() < end) {
    const response = await kg.app.inject({ url: '/protected', headers: { authorization: `Bearer ${list[n % list.length]}` } });
    if (response.statusCode !== 200) throw new Error(`/protected answered ${response.statusCode}`);
    n++;
  }
  return n / ((performance.now() - started) / 1000);
}

const on = await startDevKeygate({ TRACK_LAST_USED: 'true' });
const off = await startDevKeygate({ TRACK_LAST_USED: 'false' });
try {
  const sets = { on: await tokens(on), off: await tokens(off) };
  for (const scenario of ['one', 'rotating'] as const) {
    const rates = { on: [] as number[], off: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const which of r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        const kg = which === 'on' ? on : off;
        const list = scenario === 'one' ? sets[which].slice(0, 1) : sets[which];
        rates[which].push(await round(kg, list));
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const a = median(rates.on);
    const b = median(rates.off);
    console.log(`${scenario === 'one' ? 'one token' : `${ROTATING} rotating tokens`}: TRACK_LAST_USED=true ${a.toFixed(0)} req/s, false ${b.toFixed(0)} req/s (median of ${ROUNDS} rounds of ${ROUND_MS} ms): ${(((b - a) / b) * 100).toFixed(1)} % slower with tracking`);
  }
} finally {
  await on.close();
  await off.close();
}
