import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { clientInfo, MAX_USER_AGENT_LENGTH } from '../../src/http/client-info.js';

const request = (headers: Record<string, string | undefined>, ip: string | undefined) => ({ headers, ip }) as unknown as FastifyRequest;

describe('clientInfo: what a session remembers of the client at login', () => {
  it('keeps the user agent and the address', () => {
    assert.deepEqual(clientInfo(request({ 'user-agent': 'Mozilla/5.0 Firefox/133' }, '203.0.113.7')), { userAgent: 'Mozilla/5.0 Firefox/133', clientAddress: '203.0.113.7' });
  });

  it('cuts a long user agent to the bound and drops control characters (no log or page forging)', () => {
    const long = clientInfo(request({ 'user-agent': `x${'é'.repeat(5000)}` }, '::1'));
    assert.equal([...long.userAgent!].length, MAX_USER_AGENT_LENGTH);
    assert.equal(clientInfo(request({ 'user-agent': 'A\r\nB\u0000C\u001bD\u0085E' }, '::1')).userAgent, 'ABCDE');
  });

  it('leaves out what is missing or empty', () => {
    assert.deepEqual(clientInfo(request({}, undefined)), {});
    assert.deepEqual(clientInfo(request({ 'user-agent': '\u0001\u0002' }, '')), {});
  });
});
