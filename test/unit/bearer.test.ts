import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BearerError, bearerChallenge } from '../../src/errors.js';
import { extractBearer, type BearerRequest } from '../../src/token/bearer.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_~+/';

function request(authorization: string | string[] | undefined, extra: Partial<BearerRequest> = {}): BearerRequest {
  const values = authorization === undefined ? [] : Array.isArray(authorization) ? authorization : [authorization];
  return {
    rawHeaders: ['Host', 'api.example.com', ...values.flatMap((v) => ['Authorization', v]), 'Accept', 'application/json'],
    queryHasToken: false,
    bodyHasToken: false,
    ...extra,
  };
}

/** Runs extractBearer and returns the BearerError it throws. */
function rejection(req: BearerRequest): BearerError {
  try {
    const token = extractBearer(req);
    assert.fail(`expected a BearerError, got the token ${JSON.stringify(token)}`);
  } catch (error) {
    assert.ok(error instanceof BearerError, `expected a BearerError, got ${String(error)}`);
    return error;
  }
}

/** A 400 invalid_request with a well-formed challenge (no raw quote in the description, no CR/LF). */
function assertInvalidRequest(req: BearerRequest): BearerError {
  const error = rejection(req);
  assert.equal(error.status, 400);
  assert.equal(error.code, 'invalid_request');
  const challenge = error.headers['www-authenticate'];
  assert.ok(challenge !== undefined);
  assert.match(challenge, /^Bearer error="invalid_request", error_description="[\x20\x21\x23-\x5b\x5d-\x7e]+"$/);
  assert.doesNotMatch(challenge, /[\r\n]/);
  return error;
}

function assertBareChallenge(req: BearerRequest): BearerError {
  const error = rejection(req);
  assert.equal(error.status, 401);
  assert.equal(error.headers['www-authenticate'], 'Bearer');
  return error;
}

describe('extractBearer', () => {
  it('returns the token of a well-formed header', () => {
    assert.equal(extractBearer(request(`Bearer ${TOKEN}`)), TOKEN);
  });

  it('matches the scheme case-insensitively', () => {
    assert.equal(extractBearer(request('bearer abc')), 'abc');
    assert.equal(extractBearer(request('BEARER abc')), 'abc');
    assert.equal(extractBearer(request('BeArEr abc')), 'abc');
  });

  it('finds the header whatever the case of its name', () => {
    assert.equal(extractBearer({ rawHeaders: ['authorization', 'Bearer abc'], queryHasToken: false, bodyHasToken: false }), 'abc');
    assert.equal(extractBearer({ rawHeaders: ['AUTHORIZATION', 'Bearer abc'], queryHasToken: false, bodyHasToken: false }), 'abc');
  });

  it('accepts trailing = padding of b64token', () => {
    assert.equal(extractBearer(request('Bearer abc==')), 'abc==');
  });

  it('no Authorization header: 401 with a bare challenge and no error code', () => {
    const error = assertBareChallenge(request(undefined));
    assert.notEqual(error.code, 'invalid_request');
    assert.notEqual(error.code, 'invalid_token');
    assert.doesNotMatch(error.headers['www-authenticate']!, /error/);
  });

  it('another scheme (Basic) is answered like no credentials: 401 bare challenge', () => {
    assertBareChallenge(request('Basic dXNlcjpwYXNz'));
    assertBareChallenge(request('Digest username="x"'));
  });

  it('"Bearer" alone or with only spaces is 400 invalid_request', () => {
    assertInvalidRequest(request('Bearer'));
    assertInvalidRequest(request('Bearer '));
    assertInvalidRequest(request('Bearer    '));
    assertInvalidRequest(request('bearer'));
  });

  it('two tokens is 400 invalid_request', () => {
    assertInvalidRequest(request('Bearer a b'));
    assertInvalidRequest(request(`Bearer ${TOKEN} ${TOKEN}`));
  });

  it('characters outside b64token are 400 invalid_request', () => {
    for (const header of ['Bearer a,b', 'Bearer a"b', 'Bearer a;b', 'Bearer a\\b', 'Bearer ab\u00e9', 'Bearer \u{1F511}', 'Bearer a=b', 'Bearer =ab', 'Bearer a\tb']) {
      assertInvalidRequest(request(header));
    }
  });

  it('two Authorization headers are 400 invalid_request, even when both are good', () => {
    assertInvalidRequest(request([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]));
    assertInvalidRequest({ rawHeaders: ['authorization', 'Bearer a', 'Authorization', 'Bearer b'], queryHasToken: false, bodyHasToken: false });
    assertInvalidRequest(request(['Bearer a', 'Basic dXNlcjpwYXNz']));
  });

  it('a token in the query is 400 invalid_request, even with a good header', () => {
    assertInvalidRequest(request(`Bearer ${TOKEN}`, { queryHasToken: true }));
    assertInvalidRequest(request(undefined, { queryHasToken: true }));
  });

  it('a token in the body is 400 invalid_request, even with a good header', () => {
    assertInvalidRequest(request(`Bearer ${TOKEN}`, { bodyHasToken: true }));
    assertInvalidRequest(request(undefined, { bodyHasToken: true }));
  });

  it('descriptions of 400 answers never carry a raw quote, backslash or line break', () => {
    // The descriptions themselves quote "Bearer": the challenge must not.
    const error = assertInvalidRequest(request('Bearer'));
    assert.match(error.description, /"/, 'the human description quotes');
    const inner = /error_description="(.*)"$/.exec(error.headers['www-authenticate']!)![1]!;
    assert.doesNotMatch(inner, /["\\\r\n]/);
  });
});

describe('bearerChallenge', () => {
  it('no parameters: a bare "Bearer"', () => {
    assert.equal(bearerChallenge({}), 'Bearer');
    assert.equal(bearerChallenge({ error: undefined, scope: undefined }), 'Bearer');
  });

  it('joins parameters in order as quoted strings', () => {
    assert.equal(
      bearerChallenge({ realm: 'api', error: 'insufficient_scope', scope: 'read write' }),
      'Bearer realm="api", error="insufficient_scope", scope="read write"',
    );
  });

  it('replaces quotes and backslashes so the quoted string cannot be closed early', () => {
    assert.equal(bearerChallenge({ error: 'invalid_token', error_description: 'say "hi" \\ bye' }), `Bearer error="invalid_token", error_description="say 'hi' ' bye"`);
  });

  it('removes CR, LF and other characters outside %x20-7E', () => {
    const value = bearerChallenge({ error_description: 'a\r\nSet-Cookie: x=1\u0000\u00e9\u2028z' });
    assert.doesNotMatch(value, /[^\x20-\x7e]/);
    assert.equal(value, 'Bearer error_description="a  Set-Cookie: x=1   z"');
  });

  it('BearerError puts its challenge in www-authenticate', () => {
    const error = new BearerError('insufficient_scope', 'needs "read"', { scope: 'read' });
    assert.equal(error.status, 403);
    assert.equal(error.code, 'insufficient_scope');
    assert.equal(error.headers['www-authenticate'], `Bearer error="insufficient_scope", error_description="needs 'read'", scope="read"`);
  });
});
