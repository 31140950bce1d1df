import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEdge, type EdgeDecision } from '../../src/edge/decide.js';
import { normaliseGeneral, normalisePath } from '../../src/edge/normalise.js';
import { checkRouteRules, compileRules, type RouteRule } from '../../src/edge/rules.js';
import { KeygateError } from '../../src/errors.js';
import { createKeygate, type Keygate } from '../../src/keygate/create.js';
import { MemoryStore } from '../../src/session/memory.js';
import { startLocalIssuer, type LocalIssuer } from '../helpers/issuer.js';

const AUDIENCE = 'https://api.example.test';

function refused(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof KeygateError && error.code === 'invalid_request' && pattern.test(error.description));
}

describe('normalisePath', () => {
  const cases: Array<[string, string]> = [
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/b?x=1&y=/../z', '/a/b'],
    ['//admin', '/admin'],
    ['/a//b///c', '/a/b/c'],
    ['/a/./b/.', '/a/b/'],
    ['/public/../admin', '/admin'],
    ['/public/%2e%2e/admin', '/admin'],
    ['/public/%2E./admin', '/admin'],
    ['/%61dmin', '/admin'],
    ['/a%7eb%2D', '/a~b-'],
    ['/a%20b%c3%a9', '/a%20b%C3%A9'],
    ['/a/..', '/'],
    ['/a/b/', '/a/b/'],
    ['/a;v=1/b', '/a;v=1/b'],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => assert.equal(normalisePath(input), expected));
  }

  const bad: Array<[string, RegExp]> = [
    ['/public/..%2Fadmin', /encoded "\/"/],
    ['/public/..%2fadmin', /encoded "\/"/],
    ['/public/..%5Cadmin', /encoded/],
    ['/public/..\\admin', /not allowed raw/],
    ['/..', /above the root/],
    ['/a/../../admin', /above the root/],
    ['/%2e%2e/admin', /above the root/],
    ['/a%00', /NUL/],
    ['/a\u0000', /not allowed raw/],
    ['/a\tb', /not allowed raw/],
    ['/a b', /not allowed raw/],
    ['/é', /not allowed raw/],
    ['/a#/../admin', /not allowed raw/],
    ['/a%2', /malformed/],
    ['/a%zz', /malformed/],
    ['/a%252e%252e/admin', /double-encoded/],
    ['/public/..;/admin', /parameters/],
    ['/admin.', /ending in "."/],
    ['/admin../x', /ending in "."/],
    ['/admin%2e', /ending in "."/],
    ['admin', /starting with/],
    ['http://evil.test/admin', /starting with/],
    [`/${'a'.repeat(9000)}`, /longer than/],
  ];
  for (const [input, pattern] of bad) {
    it(`${JSON.stringify(input.slice(0, 40))} is refused with 400`, () => refused(() => normalisePath(input), pattern));
  }

  it('answers exactly as the general rules on 20,000 generated paths (the shortcut for already-normal paths changes nothing)', () => {
    const pieces = ['/', '/', 'a', 'Z', '.', '..', '%2e', '%2E', '%41', '%2f', '%5c', '%25', '%00', '%', ';', ';v=1', '~', '-', '\\', '#', ' ', 'é', '@', '*', '?'];
    let seed = 7;
    const next = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648), seed);
    const outcome = (fn: () => string) => {
      try {
        return fn();
      } catch (error) {
        return error instanceof KeygateError ? `400 ${error.description}` : `threw ${String(error)}`;
      }
    };
    let shortcut = 0;
    for (let n = 0; n < 20_000; n++) {
      let path = '/';
      for (let k = next() % 8; k >= 0; k--) path += pieces[next() % pieces.length];
      const raw = path.split('?')[0]!;
      const general = outcome(() => normaliseGeneral(raw));
      assert.equal(outcome(() => normalisePath(path)), general, path);
      if (general === raw) shortcut++;
    }
    assert.ok(shortcut > 1000, `only ${shortcut} generated paths were already normal`);
  });
});

describe('route rules', () => {
  it('checkRouteRules reports every problem with its place, and keeps only good rules', () => {
    const problems: string[] = [];
    const rules = checkRouteRules('ROUTES', [
      { path: '/ok/*' },
      { path: 'no-slash' },
      { path: '/a/../b' },
      { path: '/x', methods: ['get'] },
      { path: '/x', public: 'yes' },
      { path: '/x', users: ['not an address'] },
      { path: '/x', scopes: [] },
      { path: '/x', public: true, scopes: ['a'] },
      { path: '/x', colour: 'red' },
      'rule',
    ], problems);
    assert.deepEqual(rules, [{ path: '/ok/*' }]);
    for (const expected of ['ROUTES[1].path', 'ROUTES[2].path', 'ROUTES[3].methods', 'ROUTES[4].public', 'ROUTES[5].users', 'ROUTES[6].scopes', 'ROUTES[7]: a public rule', 'ROUTES[8].colour', 'ROUTES[9]: must be an object']) {
      assert.ok(problems.some((p) => p.startsWith(expected)), `${expected} in ${problems.join(' | ')}`);
    }
    const notArray: string[] = [];
    checkRouteRules('ROUTES', { path: '/' }, notArray);
    assert.deepEqual(notArray, ['ROUTES: must be a JSON array of rules']);
  });

  const rules: RouteRule[] = [
    { path: '/public/*', methods: ['GET', 'HEAD'], public: true },
    { path: '/admin/*', users: ['@example.com'], scopes: ['admin'] },
    { path: '/files/*.txt', public: true },
  ];
  const match = compileRules(rules);

  it('the first matching rule wins; methods narrow a rule; no match is undefined (any logged-in user)', () => {
    assert.equal(match('GET', '/public/a/b')?.index, 0);
    assert.equal(match('GET', '/public')?.index, 0, '"/public/*" covers "/public"');
    assert.equal(match('GET', '/publicity'), undefined, 'but not "/publicity"');
    assert.equal(match('POST', '/public/a'), undefined, 'POST is not in the public rule');
    assert.equal(match('GET', '/admin/users')?.index, 1);
    assert.equal(match('GET', '/files/a/b.txt')?.index, 2);
    assert.equal(match('GET', '/files/a.txt.exe'), undefined);
    assert.equal(match('GET', '/other'), undefined);
  });

  it('a path that matches another rule only when letter case is ignored is refused, never weaker', () => {
    refused(() => match('GET', '/ADMIN/users'), /letter case/);
    refused(() => match('GET', '/Admin/users'), /letter case/);
    refused(() => match('GET', '/Public/x'), /letter case/);
    assert.equal(match('GET', '/other/ADMIN'), undefined, 'letter case elsewhere is fine');
  });
});

describe('createEdge().decide', () => {
  let issuer: LocalIssuer;
  let keygate: Keygate;
  let store: MemoryStore;
  const rules = [
    { path: '/public/*', methods: ['GET'], public: true },
    { path: '/admin/*', users: ['@example.com'], scopes: ['admin'] },
  ];

  before(async () => {
    issuer = await startLocalIssuer(AUDIENCE);
    store = new MemoryStore({ maxEntries: 100, sweepIntervalMs: 0 });
    keygate = createKeygate({ issuer: issuer.issuer, audience: AUDIENCE, store });
  });
  after(async () => {
    await keygate.close();
    await store.close();
    await issuer.close();
  });

  const bearer = (token: string) => ['Authorization', `Bearer ${token}`];
  const errorOf = (decision: EdgeDecision) => (decision instanceof KeygateError ? decision : assert.fail(`allowed: ${JSON.stringify(decision)}`));

  it('public rules need no credentials; other paths need a valid token; rules and the extra policy both apply', async () => {
    const edge = createEdge({ keygate, rules: checkRouteRules('ROUTES', rules, []) });
    const open = await edge.decide({ method: 'GET', uri: '/public/x', rawHeaders: [], sessionId: undefined });
    assert.deepEqual(open, { allow: { sub: '', email: '', auth: undefined, credential: 'none', path: '/public/x', rule: 0 } });

    const none = errorOf(await edge.decide({ method: 'POST', uri: '/public/x', rawHeaders: [], sessionId: undefined }));
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');

    const user = await issuer.mint({ email: 'ann@example.com', scope: 'read' });
    const ok = await edge.decide({ method: 'GET', uri: '/anything', rawHeaders: bearer(user), sessionId: undefined });
    assert.ok(!(ok instanceof KeygateError));
    assert.equal(ok.allow.sub, 'user-1');
    assert.equal(ok.allow.email, 'ann@example.com');
    assert.equal(ok.allow.credential, 'bearer');

    const noScope = errorOf(await edge.decide({ method: 'GET', uri: '/admin/x', rawHeaders: bearer(user), sessionId: undefined }));
    assert.equal(noScope.code, 'insufficient_scope');
    const trick = errorOf(await edge.decide({ method: 'GET', uri: '/public/../admin/x', rawHeaders: bearer(user), sessionId: undefined }));
    assert.equal(trick.code, 'insufficient_scope', 'the dot-segment resolves to /admin, not to the public rule');

    const admin = await issuer.mint({ email: 'ann@example.com', scope: 'admin' });
    assert.ok(!((await edge.decide({ method: 'GET', uri: '/admin/x', rawHeaders: bearer(admin), sessionId: undefined })) instanceof KeygateError));
    const outsider = await issuer.mint({ email: 'eve@evil.test', scope: 'admin' });
    assert.equal(errorOf(await edge.decide({ method: 'GET', uri: '/admin/x', rawHeaders: bearer(outsider), sessionId: undefined })).code, 'access_denied');

    const extra = keygate.policy({ scopes: ['write'] });
    assert.equal(errorOf(await edge.decide({ method: 'GET', uri: '/x', rawHeaders: bearer(user), sessionId: undefined, policy: extra })).code, 'insufficient_scope');
  });

  it('bad methods, paths and tokens are refusals, never throws', async () => {
    const edge = createEdge({ keygate, rules: [] });
    const token = await issuer.mint({ email: 'ann@example.com' });
    assert.equal(errorOf(await edge.decide({ method: 'get', uri: '/x', rawHeaders: bearer(token), sessionId: undefined })).code, 'invalid_request');
    assert.equal(errorOf(await edge.decide({ method: 'GET', uri: '/a/..%2f', rawHeaders: bearer(token), sessionId: undefined })).code, 'invalid_request');
    assert.equal(errorOf(await edge.decide({ method: 'GET', uri: '/x', rawHeaders: bearer('garbage'), sessionId: undefined })).code, 'invalid_token');
    assert.equal(errorOf(await edge.decide({ method: 'GET', uri: '/x', rawHeaders: [...bearer(token), ...bearer(token)], sessionId: undefined })).code, 'invalid_request');
  });

  it('a token verified before is decided at once (a value, not a promise), and its logout is seen at once too', async () => {
    const edge = createEdge({ keygate, rules: [] });
    // A claim of its own: the token that this test logs out is no other test's.
    const token = await issuer.mint({ email: 'ann@example.com', jti: 'decided-at-once' });
    const request = { method: 'GET', uri: '/x', rawHeaders: bearer(token), sessionId: undefined };
    assert.ok(edge.decide(request) instanceof Promise, 'the first time, the token is verified');
    await edge.decide(request);
    const known = edge.decide(request);
    assert.ok(!(known instanceof Promise) && !(known instanceof KeygateError));
    assert.equal(known.allow.email, 'ann@example.com');
    await keygate.logout(token);
    const after = edge.decide(request);
    assert.ok(!(after instanceof Promise), 'the memory store knows the revocation without waiting');
    assert.equal(errorOf(after).code, 'invalid_token');
    const malformed = edge.decide({ ...request, rawHeaders: ['Authorization', 'Bearer a b'] });
    assert.equal(errorOf(malformed as EdgeDecision).code, 'invalid_request', 'a refusal is returned, never thrown');
  });

  it('a session id reads the live login\'s token through the same verification; an ended login is refused', async () => {
    const edge = createEdge({ keygate, rules: [] });
    const token = await issuer.mint({ email: 'ann@example.com' });
    const verified = await keygate.verify(token);
    const now = Date.now();
    await store.create({ id: 's'.repeat(43), sub: 'user-1', email: 'ann@example.com', apiToken: token, tokenKind: 'access_token', tokenKey: verified.key, createdAt: now, expiresAt: now + 60_000 });
    const ok = await edge.decide({ method: 'GET', uri: '/x', rawHeaders: [], sessionId: 's'.repeat(43) });
    assert.ok(!(ok instanceof KeygateError));
    assert.equal(ok.allow.credential, 'cookie');
    await keygate.logout(token);
    assert.equal(errorOf(await edge.decide({ method: 'GET', uri: '/x', rawHeaders: [], sessionId: 's'.repeat(43) })).status, 401);
    assert.equal(errorOf(await edge.decide({ method: 'GET', uri: '/x', rawHeaders: bearer(token), sessionId: undefined })).code, 'invalid_token');
  });
});
