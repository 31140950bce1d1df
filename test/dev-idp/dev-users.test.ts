/** `DEV_USERS`: the demo users by default, the compact list, and the JSON form with permissions, each problem named. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.js';

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('DEV_USERS', () => {
  it('defaults to the demo users alice and bob, with permissions for access tokens', () => {
    assert.deepEqual(loadConfig({}).devUsers, [
      { email: 'alice@example.com', password: 'alice', name: 'Alice Example', permissions: ['read:messages', 'write:messages'] },
      { email: 'bob@example.com', password: 'bob', name: 'Bob Example', permissions: ['read:messages'] },
    ]);
  });

  it('the JSON form carries permissions; name is optional; e-mails are lower-cased', () => {
    const users = loadConfig({
      DEV_USERS: '[{"email":"Carol@Example.com","password":"pw","permissions":["read:messages","read:messages","delete:messages"]},{"email":"dan@example.com","password":"x","name":"Dan"}]',
    }).devUsers;
    assert.deepEqual(users, [
      { email: 'carol@example.com', password: 'pw', name: 'carol', permissions: ['read:messages', 'delete:messages'] },
      { email: 'dan@example.com', password: 'x', name: 'Dan' },
    ]);
  });

  it('refuses a bad JSON form with messages that name DEV_USERS and the user', () => {
    assert.deepEqual(problems({ DEV_USERS: '[{"email":"carol@example.com"' }).filter((p) => p.startsWith('DEV_USERS')).map((p) => p.replace(/\(.*\)/, '(…)')), [
      'DEV_USERS: not valid JSON (…)',
    ]);
    assert.deepEqual(problems({ DEV_USERS: '[{"email":"carol","password":"","permissions":["a b"],"role":"x"}]' }), [
      'DEV_USERS: user #1: "email" must be an e-mail address; "password" must be a non-empty string; "permissions" must be an array of words such as "read:messages"; unknown field(s) "role"',
    ]);
    assert.deepEqual(problems({ DEV_USERS: '[{"email":"a@example.com","password":"a"},{"email":"A@example.com","password":"b"}]' }), [
      'DEV_USERS: a@example.com is listed twice',
    ]);
    assert.deepEqual(problems({ DEV_USERS: '[]' }), ['DEV_USERS: no user in the list']);
    assert.deepEqual(problems({ DEV_USERS: 'carol@example.com' }), ['DEV_USERS: "carol@example.com" is not email:password[:name]']);
  });
});
