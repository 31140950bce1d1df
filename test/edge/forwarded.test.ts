import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { originalRequest } from '../../src/edge/forwarded.js';
import { KeygateError } from '../../src/errors.js';

const refused = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (error: unknown) => error instanceof KeygateError && error.status === 400 && pattern.test(error.description));

describe('originalRequest (the forwarding headers of a forward-auth call)', () => {
  it('reads the header names in any case, and ignores names of the same length that are others', () => {
    const original = originalRequest(['HOST', 'App.Example.Test', 'x-ORIGINAL-uri', '/a?b=1', 'X-Forwarded-Proto', 'HTTPS', 'X-Forwarded-Hosx', 'evil.test'], 'GET', 'http');
    assert.deepEqual(original, { method: 'GET', uri: '/a?b=1', origin: 'https://app.example.test' });
  });

  it('a header repeated in another case is still repeated: 400', () => {
    refused(() => originalRequest(['Host', 'a.test', 'X-Forwarded-Uri', '/a', 'x-forwarded-uri', '/admin'], 'GET', 'http'), /x-forwarded-uri header was sent more than once/);
    refused(() => originalRequest(['Host', 'a.test', 'host', 'b.test', 'X-Original-URI', '/a'], 'GET', 'http'), /host header was sent more than once/);
  });

  it('a host once found well-formed does not let a malformed or missing one through later', () => {
    assert.equal(originalRequest(['Host', 'a.test', 'X-Original-URI', '/'], 'GET', 'http').origin, 'http://a.test');
    refused(() => originalRequest(['Host', 'a.test/evil', 'X-Original-URI', '/'], 'GET', 'http'), /Host/);
    refused(() => originalRequest(['X-Original-URI', '/'], 'GET', 'http'), /missing/);
    refused(() => originalRequest(['Host', 'a.test', 'X-Forwarded-Host', 'a.test, b.test', 'X-Original-URI', '/'], 'GET', 'http'), /X-Forwarded-Host/);
  });
});
