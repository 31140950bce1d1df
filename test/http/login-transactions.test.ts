import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { MAX_TRANSACTIONS } from '../../src/http/transactions.js';
import { Agent } from '../helpers/agent.js';
import { protectedStatus, startDevKeygate, textOf, throughProvider, type TestKeygate } from '../helpers/keygate.js';

/**
 * Several logins in progress in one browser (tabs), each with its own transaction cookie, against the embedded
 * development provider over HTTP. One Agent is one browser: one cookie jar for Keygate and the provider.
 */
describe('login transactions: several logins in one browser, bounded', () => {
  let kg: TestKeygate;
  before(async () => {
    kg = await startDevKeygate();
  });
  after(async () => kg.close());

  /** A tab's `GET /login`: the provider's authorization URL it redirects to. */
  async function start(agent: Agent, query = ''): Promise<URL> {
    const response = await agent.request(new URL(`/login${query}`, kg.base));
    await response.arrayBuffer();
    assert.equal(response.status, 302);
    return new URL(response.headers.get('location')!);
  }

  /** The tab goes on at the provider and comes back to `/callback`: where it ends. */
  async function finish(agent: Agent, authorizeUrl: URL) {
    const { response, url, html } = await throughProvider(agent, authorizeUrl, 'alice@example.com', 'alice');
    return { status: response.status, path: url.pathname, text: textOf(html), html };
  }

  async function finishesOnKeyPage(agent: Agent, authorizeUrl: URL): Promise<string> {
    const end = await finish(agent, authorizeUrl);
    assert.equal(`${end.status} ${end.path}`, '200 /key', end.text.slice(0, 400));
    return /<textarea[^>]*id="token"[^>]*>([^<]*)<\/textarea>/.exec(end.html)![1]!.trim();
  }

  const transactionCookies = (agent: Agent) => [...(agent.jar.get(kg.base.host)?.keys() ?? [])].filter((name) => name.startsWith('keygate_tx_'));
  const sessions = async () => (await kg.store.stats()).sessions;

  it('LC-38 two interleaved logins in one browser both succeed; each callback uses and clears only its own transaction', async () => {
    const agent = new Agent();
    const first = await start(agent);
    const second = await start(agent);
    assert.notEqual(first.searchParams.get('state'), second.searchParams.get('state'));
    assert.equal(transactionCookies(agent).length, 2);

    // The first tab comes back after the second one started (the case a single transaction cookie broke).
    await finishesOnKeyPage(agent, first);
    assert.equal(transactionCookies(agent).length, 1, 'the second tab\'s transaction is still there');
    const token = await finishesOnKeyPage(agent, second);
    assert.deepEqual(transactionCookies(agent), []);
    assert.equal(await protectedStatus(kg.base, token), 200);
  });

  it(`LC-39 at most ${MAX_TRANSACTIONS} logins in progress per browser: one more clears the oldest (login_expired), the newest succeed; the cookie header stays small`, async () => {
    const agent = new Agent();
    // The longest returnTo Keygate keeps makes the largest transactions.
    const returnTo = `/key?${'a'.repeat(500)}`;
    const started: URL[] = [];
    for (let i = 0; i < MAX_TRANSACTIONS; i++) started.push(await start(agent, `?returnTo=${encodeURIComponent(returnTo)}`));
    // The age of a transaction is sealed in it: the order a browser sends its cookies in does not matter.
    agent.jar.set(kg.base.host, new Map([...agent.jar.get(kg.base.host)!].reverse()));
    started.push(await start(agent, `?returnTo=${encodeURIComponent(returnTo)}`));
    assert.equal(transactionCookies(agent).length, MAX_TRANSACTIONS);
    const header = [...agent.jar.get(kg.base.host)!].map(([n, v]) => `${n}=${v}`).join('; ');
    assert.ok(header.length < 8192, `Cookie header of ${header.length} bytes (a proxy's usual limit for one header is 8 kB)`);

    const before = await sessions();
    const oldest = await finish(agent, started[0]!);
    assert.equal(`${oldest.status} ${oldest.path}`, '400 /callback');
    assert.match(oldest.text, /login_expired/);
    assert.equal(await sessions(), before, 'no session from the cleared login');
    for (const authorizeUrl of started.slice(1)) await finishesOnKeyPage(agent, authorizeUrl);
    assert.deepEqual(transactionCookies(agent), []);
  });

  it('a used transaction replayed from the same browser is login_expired, and no second session starts', async () => {
    const agent = new Agent();
    const mine = await start(agent);
    const other = await start(agent);
    await finishesOnKeyPage(agent, mine);
    const used = agent.hops.findLast((hop) => new URL(hop.url).pathname === '/callback')!;
    const before = await sessions();
    const replay = await agent.request(used.url, { headers: { accept: 'text/html' } });
    assert.equal(replay.status, 400);
    assert.match(textOf(await replay.text()), /login_expired/);
    assert.equal(await sessions(), before);
    // The other tab's login is untouched by the replay.
    await finishesOnKeyPage(agent, other);
  });

  it('a state that matches no login in this browser is login_expired, and clears nothing', async () => {
    const agent = new Agent();
    const first = await start(agent);
    const second = await start(agent);
    for (const state of ['wrong', '', 'keygate_tx_', first.searchParams.get('state')!.slice(0, -1), '%00', 'x'.repeat(4000)]) {
      const response = await agent.request(new URL(`/callback?code=abc&state=${encodeURIComponent(state)}`, kg.base), { headers: { accept: 'text/html' } });
      assert.equal(response.status, 400, state.slice(0, 20));
      assert.match(textOf(await response.text()), /login_expired/);
      assert.deepEqual(response.headers.getSetCookie(), [], 'no cookie cleared');
    }
    assert.equal(transactionCookies(agent).length, 2);
    await finishesOnKeyPage(agent, second);
    await finishesOnKeyPage(agent, first);
  });

  it('LC-40 hundreds of cookies, many with forged transaction names or values: no 5xx, bounded Set-Cookie lines, a genuine login still succeeds', async () => {
    const forged = new Map<string, string>();
    for (let i = 0; i < 150; i++) forged.set(`keygate_tx_${randomBytes(16).toString('base64url')}`, i % 3 === 0 ? 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC' : `garbage${i}`);
    for (const name of ['keygate_tx_', 'keygate_tx_..%2F..', `keygate_tx_${'a'.repeat(300)}`, '__Host-keygate_tx_AAAAAAAAAAAAAAAAAAAAAA', 'keygate_tx', '__proto__', 'constructor', 'hasOwnProperty']) {
      forged.set(name, 'x');
    }
    for (let i = 0; i < 100; i++) forged.set(`other${i}`, `v${i}`);
    const cookie = [...forged].map(([n, v]) => `${n}=${v}`).join('; ');

    for (const path of ['/login', '/callback?code=abc&state=xyz', `/callback?code=abc&state=${[...forged.keys()][0]!.slice('keygate_tx_'.length)}`]) {
      const response = await fetch(new URL(path, kg.base), { headers: { cookie, accept: 'text/html' }, redirect: 'manual' });
      const text = textOf(await response.text());
      assert.ok(response.status < 500, `${path} → ${response.status} ${text.slice(0, 200)}`);
      assert.ok(response.headers.getSetCookie().length <= 2 * MAX_TRANSACTIONS + 1, `${path}: ${response.headers.getSetCookie().length} Set-Cookie lines`);
      if (path !== '/login') assert.match(text, /login_expired/);
    }

    // The same flood in a browser's jar, around a genuine login.
    const agent = new Agent();
    agent.jar.set(kg.base.host, new Map(forged));
    const authorizeUrl = await start(agent);
    const cleared = forged.size - [...forged.keys()].filter((name) => agent.cookie(kg.base.host, name) !== undefined).length;
    assert.ok(cleared <= 2 * MAX_TRANSACTIONS, `${cleared} forged cookies cleared by one /login`);
    await finishesOnKeyPage(agent, authorizeUrl);
  });
});
