import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import pino from 'pino';
import { requestLoggerFactory } from '../../src/http/request-logger.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

describe('requestLoggerFactory (a request\'s logger, made on its first line)', () => {
  it('makes no pino child for a request that logs nothing, and the child\'s own lines for one that does', async () => {
    const { lines, logger } = capture();
    let children = 0;
    const counting = Object.assign(Object.create(logger) as FastifyBaseLogger, {
      child: (...args: Parameters<FastifyBaseLogger['child']>) => {
        children++;
        return logger.child(...args);
      },
    });
    const make = (id: string) => requestLoggerFactory.call({} as FastifyInstance, counting, { reqId: id }, {}, undefined as never);
    const quiet = make('req-1');
    assert.equal(children, 0);
    const busy = make('req-2');
    busy.info({ code: 'invalid_token' }, 'refused');
    busy.debug('not at this level');
    busy.error(new Error('boom'));
    assert.equal(children, 1, 'one child, made on the first line');
    assert.equal(busy.level, 'info');
    busy.child({ audit: true }).warn('from a grandchild');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(lines.map((l) => [l.reqId, l.msg]), [['req-2', 'refused'], ['req-2', 'boom'], ['req-2', 'from a grandchild']]);
    assert.equal(lines[0]!.code, 'invalid_token');
    assert.equal(lines[2]!.audit, true);
    assert.ok(quiet, 'the quiet request still had a logger to use');
  });
});
