import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeReturnTo } from '../../src/oidc/login.js';

/**
 * Where a browser would actually go if Keygate answered `Location: <value>` from https://keygate.example.
 * (A browser strips tabs/newlines and treats `\` as `/` before resolving; we resolve the same way.)
 */
function browserTarget(location: string): URL {
  return new URL(location.replace(/[\t\n\r]/g, '').replace(/\\/g, '/'), 'https://keygate.example/key');
}

function assertSameOrigin(result: string, input: string): void {
  assert.equal(browserTarget(result).origin, 'https://keygate.example', `${JSON.stringify(input)} -> ${JSON.stringify(result)}`);
  assert.ok(result.startsWith('/') && !result.startsWith('//') && !result.startsWith('/\\'), `${JSON.stringify(input)} -> ${JSON.stringify(result)}`);
  assert.doesNotMatch(result, /[\u0000-\u001f\u007f\\]/);
}

describe('safeReturnTo', () => {
  it('keeps same-origin relative paths with query and fragment', () => {
    assert.equal(safeReturnTo('/key'), '/key');
    assert.equal(safeReturnTo('/key?x=1#y'), '/key?x=1#y');
    assert.equal(safeReturnTo('/some/page?a=1&b=two'), '/some/page?a=1&b=two');
    assert.equal(safeReturnTo('/'), '/');
  });

  it('keeps a long but reasonable path', () => {
    const path = `/${'a'.repeat(200)}`;
    assert.equal(safeReturnTo(path), path);
  });

  it('refuses protocol-relative and backslash forms', () => {
    for (const value of ['//evil.com', '//evil.com/key', '/\\evil.com', '\\\\evil', '\\/evil.com', '/\\/evil.com', '/key\\..\\..\\evil']) {
      assert.equal(safeReturnTo(value), '/key', JSON.stringify(value));
    }
  });

  it('refuses absolute URLs and other schemes', () => {
    for (const value of ['https://evil.com', 'http://evil.com/key', 'javascript:alert(1)', 'JavaScript:alert(1)', 'data:text/html,x', 'evil.com', 'key', '']) {
      assert.equal(safeReturnTo(value), '/key', JSON.stringify(value));
    }
  });

  it('refuses control characters anywhere (browsers strip tabs and newlines)', () => {
    for (const value of ['/\tevil', '/\t/evil.com', '/\n/evil.com', '/\r\n/evil.com', '/ /x\u0000', '/\u0000/x', '/x\u007f', '/key\r\nSet-Cookie: a=b', '/\u001f/evil.com']) {
      assert.equal(safeReturnTo(value), '/key', JSON.stringify(value));
    }
  });

  it('a path with a plain space stays a same-origin path', () => {
    assertSameOrigin(safeReturnTo('/ /x'), '/ /x');
  });

  it('refuses non-strings', () => {
    for (const value of [undefined, null, 42, true, ['/ok'], { toString: () => '/ok' }, new URL('https://keygate.example/ok')]) {
      assert.equal(safeReturnTo(value), '/key', String(value));
    }
  });

  it('refuses overlong strings', () => {
    assert.equal(safeReturnTo(`/${'a'.repeat(599)}`), '/key');
    assert.equal(safeReturnTo(`/${'a'.repeat(5000)}`), '/key');
  });

  it('percent-encoded control characters never yield an off-origin or raw-control-character target', () => {
    for (const value of ['/%0a', '/%0d%0aSet-Cookie:%20a=b', '/%09/evil.com', '/%00']) {
      assertSameOrigin(safeReturnTo(value), value);
    }
  });

  it(
    'percent-encoded control characters are refused like raw ones',
    () => {
      assert.equal(safeReturnTo('/%0a'), '/key');
    },
  );

  it(
    'dot segments cannot turn a path into a protocol-relative URL',
    () => {
      for (const value of ['/..//evil.com', '/.//evil.com', '/%2e%2e//evil.com', '/%2E//evil.com', '/a/..//evil.com', '/a/../..//evil.com/x']) {
        const result = safeReturnTo(value);
        assertSameOrigin(result, value);
      }
    },
  );
});
