import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import * as jose from 'jose';
import { AUDIT_EVENTS, createAudit } from '../../src/audit/index.js';
import { serverLoggerOptions } from '../../src/http/logger.js';
import { publicSessionId } from '../../src/session/public-id.js';
import type { Session } from '../../src/session/store.js';
import { Agent, findForm } from '../helpers/agent.js';
import { loginAs, protectedStatus, startDevKeygate, throughProvider, type TestKeygate } from '../helpers/keygate.js';
import { basic, CLIENT, CLIENTS_ENV, introspect, OTHER, tokenForm } from '../introspection/helpers.js';

const AUDIENCE = 'https://api.example.com';
const SECRET_KEY = 'audit-fixture-secret-key-0123456789-abcdefghij';
const DEV_USERS = 'alice@example.com:alice,bob@example.com:bob,carol@example.com:carol';
const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin', accept: 'application/json' };
const FORM = { ...SAME_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' };

type Line = Record<string, unknown>;

/** Every line the server's logger writes, with the server's own logger options (redaction included). */
function capture(): { stream: Writable; text: () => string; lines: () => Line[] } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _encoding, done) { chunks.push(String(chunk)); done(); } });
  const text = () => chunks.join('');
  return { stream, text, lines: () => text().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Line) };
}

/** Ends the provider session only: the provider then calls Keygate's back-channel logout. */
async function logoutAtProvider(agent: Agent, base: URL): Promise<void> {
  const { response, url } = await agent.follow(new URL('/idp/session/end', base));
  const form = findForm(await response.text(), '/session/end/confirm', url);
  const done = await agent.submit(form.action, { ...form.fields, logout: 'yes' });
  await done.response.arrayBuffer();
}

/** The next whole second, so a renewed token differs from the previous one. */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));

describe('the audit trail during a full run', () => {
  const log = capture();
  let kg: TestKeygate;
  const secrets = new Map<string, string>();
  const subs: Record<string, string> = {};
  const internalIds: Record<string, string[]> = {};
  const keep = (name: string, value: string | undefined) => {
    if (value === undefined || value === '') return;
    secrets.set(name, value);
  };
  const keepSession = (label: string, session: Session) => {
    keep(`${label} API token`, session.apiToken);
    keep(`${label} ID token`, session.idToken);
    keep(`${label} refresh token`, session.refreshToken);
    keep(`${label} internal session id`, session.id);
  };
  const keepCookies = (label: string, agent: Agent) => {
    for (const [host, cookies] of agent.jar) for (const [name, value] of cookies) {
      keep(`${label} cookie ${name}@${host}`, value);
      keep(`${label} cookie ${name}@${host} (decoded)`, decodeURIComponent(value));
    }
  };

  before(async () => {
    kg = await startDevKeygate(
      {
        AUDIENCE, SCOPE: 'openid email offline_access read:messages', REFRESH: 'true', DEV_USERS, SECRET_KEY,
        ALLOWED_USERS: 'alice@example.com,bob@example.com', INTROSPECTION_CLIENTS: CLIENTS_ENV,
      },
      // trace: the most a user's log can hold.
      { logger: serverLoggerOptions('trace', log.stream) },
    );
    for (const key of kg.config.secretKeys) keep('SECRET_KEY', key);
    keep('CLIENT_SECRET', kg.config.clientSecret);
    keep('introspection secret', CLIENT.secret);
    keep('introspection secret 2', OTHER.secret);

    // Alice: login, key page, /protected, refresh, introspection, a second browser, log out everywhere.
    const alice = new Agent();
    const first = await loginAs(alice, kg.base, 'alice@example.com', 'alice');
    subs.alice = jose.decodeJwt(first.token).sub!;
    const [session] = await kg.store.listBySubject(subs.alice);
    keepSession('alice', session!);
    keepCookies('alice', alice);
    internalIds.alice = [session!.id];
    assert.equal(await protectedStatus(kg.base, first.token), 200);
    await (await alice.request(new URL('/key', kg.base))).text();
    await nextSecond();
    const renewed = await alice.request(new URL('/refresh', kg.base), { method: 'POST', headers: SAME_ORIGIN });
    assert.equal(renewed.status, 200);
    const renewedToken = ((await renewed.json()) as { token: string }).token;
    keep('alice renewed token', renewedToken);
    keepSession('alice renewed', (await kg.store.get(session!.id))!);
    assert.equal((await introspect(kg.base, tokenForm(renewedToken))).body.active, true);
    assert.equal((await introspect(kg.base, tokenForm(renewedToken), basic(CLIENT.id, 'wrong-secret-wrong-secret-wrong-secret'))).status, 401);
    assert.equal((await introspect(kg.base, tokenForm(renewedToken), basic('someone', CLIENT.secret))).status, 401);
    const second = new Agent();
    await loginAs(second, kg.base, 'alice@example.com', 'alice');
    const sessions = await kg.store.listBySubject(subs.alice);
    for (const s of sessions) keepSession('alice second', s);
    keepCookies('alice second', second);
    internalIds.aliceAll = sessions.map((s) => s.id);
    const out = await alice.request(new URL('/logout', kg.base), { method: 'POST', headers: FORM, body: 'all=true' });
    assert.equal(out.status, 200);
    assert.equal((await introspect(kg.base, tokenForm(renewedToken))).body.active, false);

    // Bob: login, then a logout at the provider (back-channel).
    const bob = new Agent();
    const bobLogin = await loginAs(bob, kg.base, 'bob@example.com', 'bob');
    subs.bob = jose.decodeJwt(bobLogin.token).sub!;
    const [bobSession] = await kg.store.listBySubject(subs.bob);
    keepSession('bob', bobSession!);
    keepCookies('bob', bob);
    internalIds.bob = [bobSession!.id];
    await logoutAtProvider(bob, kg.base);
    assert.equal(await protectedStatus(kg.base, bobLogin.token), 401);

    // Nobody: a logout without any credential proves no login, so it is no event.
    const anonymous = await fetch(new URL('/logout', kg.base), { method: 'POST', headers: { accept: 'application/json' } });
    assert.equal(anonymous.status, 200);

    // Carol: refused by ALLOWED_USERS.
    const carol = new Agent();
    const refused = await throughProvider(carol, new URL('/login', kg.base), 'carol@example.com', 'carol');
    assert.equal(refused.response.status, 403);
    keepCookies('carol', carol);
    // The pino stream is asynchronous to the requests; let it drain.
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
  after(async () => kg?.close());

  const audits = () => log.lines().filter((line) => line.audit === true);
  const find = (event: string, predicate: (line: Line) => boolean = () => true) => audits().filter((line) => line.event === event && predicate(line));

  it('AU-01 each event of the run is one line with audit: true, event, outcome, actor, session_id and client_address', () => {
    const alicePublic = publicSessionId(internalIds.alice![0]!);
    const checks: Array<[string, Line]> = [
      ['login', { outcome: 'success', actor: subs.alice, session_id: alicePublic }],
      ['refresh', { outcome: 'success', actor: subs.alice, session_id: alicePublic }],
      ['logout', { outcome: 'success', actor: subs.alice, session_id: alicePublic }],
      ['logout_everywhere', { outcome: 'success', actor: subs.alice }],
      ['backchannel_logout', { outcome: 'success', actor: 'provider', subject: subs.bob, session_id: publicSessionId(internalIds.bob![0]!) }],
      ['introspection_refused', { outcome: 'refused', actor: CLIENT.id }],
    ];
    for (const [event, fields] of checks) {
      const lines = find(event, (line) => Object.entries(fields).every(([k, v]) => line[k] === v));
      assert.ok(lines.length >= 1, `${event} ${JSON.stringify(fields)} in ${JSON.stringify(audits(), null, 1)}`);
      for (const line of lines) assert.equal(line.client_address, '127.0.0.1', event);
    }
    const refused = find('login', (line) => line.outcome === 'refused');
    assert.equal(refused.length, 1);
    assert.equal(typeof refused[0]!.actor, 'string', 'the refused user is named by sub');
    assert.deepEqual(refused[0]!.detail, { reason: 'allowlist' });
    assert.equal(refused[0]!.session_id, undefined, 'no session was created');
    // The other browser's session ended by "everywhere" is named by its public id.
    const other = internalIds.aliceAll!.find((id) => id !== internalIds.alice![0])!;
    assert.equal(find('logout_everywhere', (line) => line.session_id === publicSessionId(other)).length, 1);
    assert.deepEqual(find('logout_everywhere', (line) => line.detail !== undefined)[0]!.detail, { other_sessions_ended: 1 });
    // An unknown client id is not written (it is the caller's text), only why it failed.
    assert.equal(find('introspection_refused', (line) => line.actor === 'someone').length, 0);
    assert.equal(find('introspection_refused', (line) => (line.detail as Line)?.reason === 'unknown_client').length, 1);
    assert.equal(find('login', (line) => line.outcome === 'success').length, 3, 'alice twice, bob once');
    assert.equal(find('logout').length, 1, 'alice\'s logout only: the anonymous one is no event');
    for (const line of audits()) assert.ok((AUDIT_EVENTS as readonly string[]).includes(line.event as string), String(line.event));
  });

  it('AU-02 session ids in audit lines are public ids: never an internal id, and each matches a real session', () => {
    const all = [...internalIds.aliceAll!, ...internalIds.bob!];
    const known = new Set(all.map(publicSessionId));
    const ids = audits().map((line) => line.session_id).filter((id) => id !== undefined);
    assert.ok(ids.length >= 5);
    for (const id of ids) assert.ok(known.has(id as string), `${String(id)} is the public id of a session of the run`);
    for (const internal of all) assert.ok(!log.text().includes(internal), 'no internal session id in any line');
  });

  it('AU-03 no token, ID token, refresh token, cookie value, client secret or SECRET_KEY appears in any log line of the run', () => {
    const text = log.text();
    if (process.env.AUDIT_DEBUG) console.log(text, [...secrets.keys()]);
    assert.ok(log.lines().length >= 15, `the run was logged (${log.lines().length} lines)`);
    assert.ok(secrets.size >= 20, `${secrets.size} secrets collected`);
    for (const [name, value] of secrets) {
      assert.ok(!text.includes(value), `${name} appears in the log`);
      // A JWT's signature alone is enough to replay nothing, but its presence would mean the token was logged in parts.
      const signature = value.split('.')[2];
      if (signature !== undefined && signature.length > 20) assert.ok(!text.includes(signature), `${name}'s signature appears in the log`);
    }
  });

  it('AU-04 /metrics counts every event by event and outcome, every series present from the start', async () => {
    const metrics = await (await fetch(new URL('/metrics', kg.base))).text();
    const value = (event: string, outcome: string) =>
      Number(new RegExp(`^keygate_audit_events_total\\{event="${event}",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
    assert.equal(value('login', 'success'), 3);
    assert.equal(value('login', 'refused'), 1);
    assert.equal(value('refresh', 'success'), 1);
    assert.equal(value('introspection_refused', 'refused'), 2);
    assert.equal(value('backchannel_logout', 'success'), 1);
    for (const event of AUDIT_EVENTS) assert.ok(Number.isFinite(value(event, 'success')), `${event} has a series`);
    assert.equal(value('session_ended_by_admin', 'success'), 0);
  });
});

describe('the audit trail itself', () => {
  it('AU-05 audit lines are written at LOG_LEVEL=warn too (a quieter log keeps the trail); only silent drops them', async () => {
    const log = capture();
    const kg = await startDevKeygate({ INTROSPECTION_CLIENTS: CLIENTS_ENV }, { logger: serverLoggerOptions('warn', log.stream) });
    try {
      assert.equal((await introspect(kg.base, tokenForm('x'), null)).status, 401);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const lines = log.lines();
      assert.equal(lines.filter((line) => line.audit === true && line.event === 'introspection_refused').length, 1);
      assert.equal(lines.filter((line) => line.audit !== true && (line.level as number) < 40).length, 0, 'the rest of the log stays at warn');
    } finally {
      await kg.close();
    }
  });

  it('AU-06 emit never throws, writes only the documented fields, and turns an internal session id into its public id', () => {
    const written: Line[] = [];
    const counted: string[] = [];
    const audit = createAudit({ info: (object) => written.push(object) }, (event, outcome) => counted.push(`${event}/${outcome}`));
    audit.emit({ event: 'session_ended_by_admin', outcome: 'success', actor: 'admin-sub', subject: 'user-sub', sessionId: 'internal-id', clientAddress: '10.0.0.1', detail: { n: 1 } });
    audit.emit({ event: 'session_ended_by_owner', outcome: 'success', publicSessionId: publicSessionId('x') });
    audit.emit({ event: 'session_ended_by_owner', outcome: 'success', publicSessionId: 'not a public id' });
    assert.deepEqual(written[0], {
      audit: true, event: 'session_ended_by_admin', outcome: 'success', actor: 'admin-sub', subject: 'user-sub',
      session_id: publicSessionId('internal-id'), client_address: '10.0.0.1', detail: { n: 1 },
    });
    assert.equal(written[1]!.session_id, publicSessionId('x'));
    assert.equal(written[2]!.session_id, undefined, 'a value that is not a public id is dropped');
    assert.deepEqual(counted, ['session_ended_by_admin/success', 'session_ended_by_owner/success', 'session_ended_by_owner/success']);
    const broken = createAudit({ info: () => { throw new Error('disk full'); } });
    assert.doesNotThrow(() => broken.emit({ event: 'logout', outcome: 'success' }));
  });
});
