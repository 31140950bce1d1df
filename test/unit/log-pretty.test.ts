/** The pretty form of pino's lines, the `auto` choice, and LOG_FORMAT's validation. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/index.js';
import { createLogOutput } from '../../src/http/log-output.js';
import { prettyLine } from '../../src/http/log-pretty.js';

const at = Date.UTC(2026, 11, 2, 9, 5, 7, 42);

describe('prettyLine: pino JSON as a human line', () => {
  it('time (UTC), level, message, then the other fields; pid and hostname left out', () => {
    const line = JSON.stringify({ level: 40, time: at, pid: 1, hostname: 'h', reqId: 'req-1', status: 401, url: '/a b', msg: 'refused' });
    assert.equal(prettyLine(line), '09:05:07.042 WARN  refused  reqId=req-1 status=401 url="/a b"\n');
  });

  it('an error: its type and message, then the stack, indented', () => {
    const line = JSON.stringify({ level: 50, time: at, msg: 'store down', err: { type: 'Error', message: 'ECONNREFUSED', stack: 'Error: ECONNREFUSED\n    at connect (x.js:1:1)' } });
    assert.equal(prettyLine(line), '09:05:07.042 ERROR store down\n    Error: ECONNREFUSED\n    at connect (x.js:1:1)\n');
  });

  it('control characters cannot forge a line or drive the terminal', () => {
    const line = JSON.stringify({ level: 30, time: at, msg: 'a\nFAKE 00:00:00.000 ERROR x\u001b[31m', path: '/x\ny' });
    const out = prettyLine(line);
    assert.equal(out.split('\n').length, 2, out);
    assert.ok(!out.includes('\u001b'), out);
    assert.equal(out, '09:05:07.042 INFO  a\\u000aFAKE 00:00:00.000 ERROR x\\u001b[31m  path="/x\\ny"\n');
  });

  it('colours only when asked (a terminal)', () => {
    const line = JSON.stringify({ level: 30, time: at, msg: 'm' });
    assert.equal(prettyLine(line, true), '\x1b[2m09:05:07.042\x1b[0m \x1b[32mINFO \x1b[0m m\n');
  });

  it("pino's redaction happens before the pretty form: a redacted header stays redacted", () => {
    const out: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => { out.push(prettyLine(chunk.toString())); done(); } });
    const log = pino({ redact: ['req.headers.authorization'] }, sink);
    log.info({ req: { headers: { authorization: 'Bearer SECRET-TOKEN' } } }, 'hello');
    assert.match(out.join(''), /req=\{"headers":\{"authorization":"\[Redacted\]"\}\}/);
    assert.doesNotMatch(out.join(''), /SECRET-TOKEN/);
  });
});

describe('LOG_FORMAT', () => {
  it('auto is pretty on a terminal and JSON otherwise; pretty and json are taken as they are', () => {
    assert.equal(createLogOutput({ format: 'auto', isTTY: true }).format, 'pretty');
    assert.equal(createLogOutput({ format: 'auto', isTTY: false }).format, 'json');
    assert.equal(createLogOutput({ format: 'pretty', isTTY: false }).format, 'pretty');
    assert.equal(createLogOutput({ format: 'json', isTTY: true }).format, 'json');
  });

  it('defaults to auto; anything else is refused with the variable named', () => {
    const env = { DEV_MODE: 'true' };
    assert.equal(loadConfig(env).logFormat, 'auto');
    assert.equal(loadConfig({ ...env, LOG_FORMAT: 'JSON' }).logFormat, 'json');
    assert.throws(() => loadConfig({ ...env, LOG_FORMAT: 'yaml' }), /LOG_FORMAT: expected one of auto, pretty, json, got "yaml"/);
  });
});
