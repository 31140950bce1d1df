import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertWellFormed, hasDuplicateMembers } from '../../src/token/well-formed.js';

const seg = (text: string | Buffer) => Buffer.from(text).toString('base64url');
const token = (header: string | Buffer, payload: string | Buffer) => `${seg(header)}.${seg(payload)}.c2ln`;

describe('hasDuplicateMembers', () => {
  it('finds a repeated name at any depth, after unescaping', () => {
    assert.equal(hasDuplicateMembers('{"a":1,"a":2}'), true);
    assert.equal(hasDuplicateMembers('{"x":{"b":1,"b":1}}'), true);
    assert.equal(hasDuplicateMembers('{"x":[{"b":1},{"b":1,"c":{"d":0,"d":0}}]}'), true);
    assert.equal(hasDuplicateMembers('{"alg":"none","\\u0061lg":"RS256"}'), true);
  });

  it('does not confuse values, strings with braces or quotes, or sibling objects with duplicates', () => {
    assert.equal(hasDuplicateMembers('{"a":"a","b":"a"}'), false);
    assert.equal(hasDuplicateMembers('{"a":"{\\"a\\":1,\\"a\\":2}","b":[1,"a",{"a":1}]}'), false);
    assert.equal(hasDuplicateMembers('[{"a":1},{"a":2}]'), false);
    assert.equal(hasDuplicateMembers('{"x":{"a":1},"y":{"a":1}}'), false);
    assert.equal(hasDuplicateMembers('{"a\\\\":1,"a":2}'), false);
  });
});

describe('assertWellFormed', () => {
  const claims = '{"sub":"x"}';
  it('accepts a plain header and payload', () => {
    assert.doesNotThrow(() => assertWellFormed(token('{"alg":"RS256","kid":"k1","typ":"JWT"}', claims)));
  });

  it('refuses invalid UTF-8, non-objects, duplicates, b64 and odd kids', () => {
    const bad = Buffer.from('{"sub":"\u00e9"}');
    bad[bad.indexOf(0xc3) + 1] = 0x28;
    for (const t of [
      token('{"alg":"RS256"}', bad),
      token('["RS256"]', claims),
      token('{"alg":"RS256"}', '"x"'),
      token('{"alg":"RS256","alg":"none"}', claims),
      token('{"alg":"RS256"}', '{"sub":"a","sub":"b"}'),
      token('{"alg":"RS256","b64":true}', claims),
      token('{"alg":"RS256","kid":7}', claims),
      token(`{"alg":"RS256","kid":"${'k'.repeat(300)}"}`, claims),
    ]) {
      assert.throws(() => assertWellFormed(t), (error: Error & { status?: number; code?: string }) => error.status === 401 && error.code === 'invalid_token');
    }
  });
});
