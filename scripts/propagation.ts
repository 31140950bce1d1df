/**
 * Measures how fast a logout on one Keygate instance reaches another: two Keygate processes (A and B, started with
 * the `keygate` command, each with its own Redis connections) share one real redis-server and one real OpenID
 * Provider (run in this process) on loopback. For each round:
 * log in on A, call /protected on B twice (so B has the token in its local cache), then log out on A while B is
 * polled back to back; the delay is from A's logout response to B's first 401. A negative delay means B already
 * answered 401 before A's response reached the client.
 *
 *   npm run propagation            # 200 rounds
 *   npm run propagation -- 500     # another count (at least 1, at most 5000)
 */
import { Agent } from '../test/helpers/agent.js';
import { loginAs } from '../test/helpers/keygate.js';
import { TestRedis } from '../test/helpers/redis.js';
import { callProtected, logoutWithToken, sharedSetup } from '../test/helpers/shared-redis.js';

const rounds = Math.min(5_000, Math.max(1, Number(process.argv[2] ?? 200) || 200));
/** B is polled at most this long per round; a round that never sees 401 counts as a failure. */
const POLL_LIMIT_MS = 2_000;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const redis = await TestRedis.start();
  const setup = await sharedSetup(2);
  const a = await setup.spawnInstance(0, redis.url);
  const b = await setup.spawnInstance(1, redis.url);
  const delays: number[] = [];
  const failures: string[] = [];
  const agent = new Agent();
  let polls = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const { token } = await loginAs(agent, a.base, 'alice@example.com', 'alice');
      for (let i = 0; i < 2; i++) {
        const warm = await callProtected(b.base, token);
        if (warm.status !== 200) throw new Error(`round ${round}: B answered ${warm.status} before the logout`);
      }
      let stop = false;
      let first401: number | undefined;
      const poller = (async () => {
        const started = performance.now();
        while (!stop && performance.now() - started < POLL_LIMIT_MS) {
          const answer = await callProtected(b.base, token);
          polls++;
          if (answer.status === 401) {
            first401 = performance.now();
            return;
          }
          if (answer.status !== 200) failures.push(`round ${round}: B answered ${answer.status} ${answer.error ?? ''}`);
        }
      })();
      const logout = await logoutWithToken(a.base, token);
      const loggedOut = performance.now();
      if (logout.status !== 200) failures.push(`round ${round}: logout on A answered ${logout.status}`);
      await poller;
      stop = true;
      if (first401 === undefined) failures.push(`round ${round}: B never answered 401 within ${POLL_LIMIT_MS} ms`);
      else delays.push(first401 - loggedOut);
    }
  } finally {
    await a.stop();
    await b.stop();
    await setup.idp.close();
    await redis.stop();
  }
  const sorted = [...delays].sort((x, y) => x - y);
  const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
  process.stdout.write(
    [
      `logout propagation from Keygate process A (pid ${a.pid}) to B (pid ${b.pid}) over ${delays.length} logouts (${polls} polls of B, ${failures.length} failures)`,
      `  median ${fmt(quantile(sorted, 0.5))}`,
      `  p99    ${fmt(quantile(sorted, 0.99))}`,
      `  max    ${fmt(sorted.at(-1) ?? Number.NaN)}`,
      `  min    ${fmt(sorted[0] ?? Number.NaN)}`,
      `  over 100 ms: ${sorted.filter((d) => d > 100).length}`,
      ...failures.slice(0, 10).map((f) => `  failure: ${f}`),
      '',
    ].join('\n'),
  );
  if (failures.length > 0 || delays.length === 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`propagation: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
