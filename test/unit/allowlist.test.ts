import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllowlist, type Allowlist } from '../../src/keygate/validate.js';
import { isAllowed } from '../../src/policy/allowlist.js';

function list(value: string): Allowlist {
  const problems: string[] = [];
  const parsed = parseAllowlist('ALLOWED_USERS', value.split(','), problems);
  assert.deepEqual(problems, [], 'the test list itself is valid');
  assert.ok(parsed, 'the test list is not empty');
  return parsed;
}

describe('isAllowed', () => {
  const exact = list('Alice@Example.com, bob@corp.example');
  const domain = list('@example.com');

  it('no list: everyone passes, whatever the address', () => {
    assert.equal(isAllowed(undefined, 'anyone@anywhere.test', true), true);
    assert.equal(isAllowed(undefined, undefined, undefined), true);
  });

  it('exact entries match case-insensitively', () => {
    assert.equal(isAllowed(exact, 'alice@example.com', true), true);
    assert.equal(isAllowed(exact, 'ALICE@EXAMPLE.COM', true), true);
    assert.equal(isAllowed(exact, 'Bob@Corp.Example', true), true);
  });

  it('exact entries do not let other addresses of the same domain in', () => {
    assert.equal(isAllowed(exact, 'carol@example.com', true), false);
    assert.equal(isAllowed(exact, 'alice@example.co', true), false);
    assert.equal(isAllowed(exact, 'xalice@example.com', true), false);
    assert.equal(isAllowed(exact, 'alice@example.com.evil.com', true), false);
  });

  it('@domain passes any address of exactly that domain, in any case', () => {
    assert.equal(isAllowed(domain, 'x@example.com', true), true);
    assert.equal(isAllowed(domain, 'X@EXAMPLE.COM', true), true);
  });

  it('@domain refuses lookalike and smuggled domains', () => {
    for (const email of [
      'a@evil.com@example.com',
      'x@evilexample.com',
      'x@sub.example.com',
      'x@example.com.evil.com',
      'x@example.com@evil.com',
      'x@example.comx',
      '@example.com',
      'example.com',
      'x@',
      '',
    ]) {
      assert.equal(isAllowed(domain, email, true), false, JSON.stringify(email));
    }
  });

  it('addresses with inner whitespace never pass', () => {
    for (const email of ['x @example.com', 'x@ example.com', 'x@example .com', 'x\t@example.com', 'x@example.com\nbob@example.com', 'x\u00a0@example.com']) {
      assert.equal(isAllowed(domain, email, true), false, JSON.stringify(email));
    }
  });

  it(
    'addresses with surrounding whitespace are not well-formed and never pass',
    () => {
      for (const email of [' x@example.com', 'x@example.com ', '\tx@example.com', 'x@example.com\n']) {
        assert.equal(isAllowed(domain, email, true), false, JSON.stringify(email));
      }
    },
  );

  it('non-string e-mails never pass a list', () => {
    for (const email of [undefined, null, 42, true, ['x@example.com'], { toString: () => 'x@example.com' }]) {
      assert.equal(isAllowed(domain, email, true), false, String(email));
    }
  });

  it('email_verified: false never passes, even for an exact entry', () => {
    assert.equal(isAllowed(exact, 'alice@example.com', false), false);
    assert.equal(isAllowed(domain, 'x@example.com', false), false);
  });

  it('email_verified undefined (not reported by the provider) passes', () => {
    assert.equal(isAllowed(exact, 'alice@example.com', undefined), true);
    assert.equal(isAllowed(domain, 'x@example.com', undefined), true);
  });

  it('email_verified: false does not matter without a list', () => {
    assert.equal(isAllowed(undefined, 'x@example.com', false), true);
  });

  it('a mixed list honours both kinds of entry', () => {
    const mixed = list('alice@other.example, @example.com');
    assert.equal(isAllowed(mixed, 'alice@other.example', true), true);
    assert.equal(isAllowed(mixed, 'bob@example.com', true), true);
    assert.equal(isAllowed(mixed, 'bob@other.example', true), false);
  });
});
