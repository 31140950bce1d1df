import assert from 'node:assert/strict';
import { timingSafeEqual } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { basicCredentials, createClientAuthenticator } from '../../src/introspection/client-auth.js';
import { CLIENT, CLIENTS_ENV, OTHER } from './helpers.js';

describe('introspection client authentication and settings', () => {
  it('IN-15 compares in constant time: timingSafeEqual over 32-byte digests for known and unknown ids alike', () => {
    const calls: Array<[number, number]> = [];
    const spy = (a: Buffer, b: Buffer) => {
      calls.push([a.length, b.length]);
      return timingSafeEqual(a, b);
    };
    const check = createClientAuthenticator([CLIENT, OTHER], spy);
    assert.deepEqual(check(CLIENT.id, CLIENT.secret), { ok: true, clientId: CLIENT.id });
    assert.deepEqual(check(CLIENT.id, 'x'), { ok: false, reason: 'wrong_secret', clientId: CLIENT.id });
    assert.deepEqual(check(CLIENT.id, OTHER.secret), { ok: false, reason: 'wrong_secret', clientId: CLIENT.id });
    assert.deepEqual(check('nobody', CLIENT.secret), { ok: false, reason: 'unknown_client' });
    assert.deepEqual(check('nobody', 'y'.repeat(5000)), { ok: false, reason: 'unknown_client' });
    // One comparison per attempt, always of equal 32-byte lengths, whatever the id and the secret's length.
    assert.deepEqual(calls, Array.from({ length: 5 }, () => [32, 32]));
    // The default comparer is node's own: an unknown id with the configured secret of another id still fails.
    assert.equal(createClientAuthenticator([CLIENT])(OTHER.id, CLIENT.secret).ok, false);
  });

  it('IN-16 reads Basic credentials strictly: one header, base64, id:secret, form-urlencoded', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    assert.deepEqual(basicCredentials([`Basic ${b64('a%3Ab:s%2Bx+y')}`]), { id: 'a:b', secret: 's+x y' });
    assert.deepEqual(basicCredentials([`basic ${b64('id:secret')}`]), { id: 'id', secret: 'secret' });
    assert.equal(basicCredentials([]), 'missing');
    for (const bad of [[`Basic ${b64('id:s')}`, `Basic ${b64('id:s')}`], ['Basic'], ['Basic !!!!'], [`Basic ${b64('nocolon')}`], [`Basic ${b64(':secret')}`],
      [`Basic ${b64('id:')}`], [`Basic ${b64('id:%E0%A4%A')}`], [`Bearer ${b64('id:s')}`], [`Basic ${b64('id:s')}x`]]) {
      assert.equal(basicCredentials(bad), 'malformed', JSON.stringify(bad));
    }
  });

  it('IN-17 INTROSPECTION_CLIENTS is refused at start-up, naming the variable and the client, never the secret', () => {
    const base = { HOST: '127.0.0.1', PORT: '5000' };
    assert.deepEqual(loadConfig({ ...base, INTROSPECTION_CLIENTS: CLIENTS_ENV }).introspectionClients.map((c) => c.id), [CLIENT.id, OTHER.id]);
    const cases: Array<[string, RegExp]> = [
      ['svc:short-secret', /INTROSPECTION_CLIENTS: client "svc": the secret is 12 characters long; at least 32/],
      ['no-colon-here', /INTROSPECTION_CLIENTS: entry #1 is not "id:secret"/],
      [`:${CLIENT.secret}`, /INTROSPECTION_CLIENTS: entry #1 is not "id:secret"/],
      [`a b:${CLIENT.secret}`, /INTROSPECTION_CLIENTS: client "a b": a client id is 1 to 128/],
      [`${CLIENT.id}:${CLIENT.secret},${CLIENT.id}:${OTHER.secret}`, /client "billing-service" is listed twice/],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => loadConfig({ ...base, INTROSPECTION_CLIENTS: value }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /short-secret|introspection-fixture-secret|another-introspection/, 'no secret in the message');
        return true;
      }, value);
    }
    assert.throws(() => loadConfig({ ...base, RATE_LIMIT_INTROSPECTION: 'lots' }), /RATE_LIMIT_INTROSPECTION/);
    assert.throws(() => loadConfig({ ...base, INTROSPECTION_CACHE_SECONDS: '3600' }), /INTROSPECTION_CACHE_SECONDS/);
    assert.deepEqual(loadConfig(base).introspectionClients, []);
  });
});
