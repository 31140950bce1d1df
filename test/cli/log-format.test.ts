/**
 * LOG_FORMAT: the CLI as users run it (a child process, stdout a pipe), with LOG_FORMAT=pretty and =json, in
 * development mode. Checks every line of stdout: in pretty, the banner's lines then human log lines (no JSON); in
 * json, one JSON object per line (the banner one of them). A token, a cookie, a callback code and the SECRET_KEY sent
 * or configured here never appear. `auto` is pretty on a terminal, JSON otherwise (test/unit/log-pretty.test.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/net.js';

const CLI = fileURLToPath(new URL('../../src/cli/keygate.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const SECRET_KEY = 'log-format-test-secret-key-0123456789abcdef';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJsb2ctc2VjcmV0In0.c2lnbmF0dXJlLXNlY3JldA';
const CODE = 'callback-code-never-logged';
const COOKIE = 'kg_session=cookie-value-never-logged';

/** Runs the CLI, makes a few requests that are logged, stops it (SIGTERM) and returns its whole stdout. */
async function runCli(t: TestContext, format: string): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', TSX, CLI], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_FORMAT: format, LOG_LEVEL: 'info', SECRET_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) assert.fail(`the CLI exited (${child.exitCode}):\n${stdout}\n${stderr}`);
    if (stdout.includes('listening on')) break;
    if (Date.now() > deadline) assert.fail(`no banner within 90 s:\n${stdout}\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Logged at info: a refused token (401) and a callback without a login (400), carrying secrets that must not show.
  await (await fetch(`${base}/protected`, { headers: { authorization: `Bearer ${TOKEN}`, cookie: COOKIE, accept: 'application/json' } })).text();
  await (await fetch(`${base}/callback?code=${CODE}&state=s`, { headers: { cookie: COOKIE } })).text();
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.kill('SIGTERM');
  await exited;
  for (const secret of [TOKEN, CODE, 'cookie-value-never-logged', SECRET_KEY]) assert.ok(!stdout.includes(secret) && !stderr.includes(secret), `${secret} leaked:\n${stdout}`);
  return stdout;
}

describe('LOG_FORMAT: the CLI writes a clean terminal or clean JSON', () => {
  it('pretty: the banner, then one human line per log entry (time, level, message, fields); no JSON', async (t) => {
    const lines = (await runCli(t, 'pretty')).split('\n').filter((l) => l !== '');
    const logLine = /^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S/;
    const bannerAt = lines.findIndex((l) => /^Keygate \d+\.\d+\.\d+ listening on http:\/\/127\.0\.0\.1:\d+$/.test(l));
    assert.ok(bannerAt >= 0, lines.join('\n'));
    assert.deepEqual(lines.slice(bannerAt + 1, bannerAt + 5).map((l) => l.split(':')[0]), ['  mode', '  provider', '  store', '  users']);
    assert.match(lines[bannerAt + 4]!, /alice@example\.com \/ alice/);
    for (const [i, line] of lines.entries()) {
      if (i >= bannerAt && i <= bannerAt + 4) continue;
      assert.match(line, logLine, `not a whole log line: ${JSON.stringify(line)}\n${lines.join('\n')}`);
      assert.ok(!line.includes('{"level"'), line);
    }
    assert.ok(lines.some((l) => /^\S+ INFO  The token .+\.  reqId=req-\d+ code=invalid_token status=401$/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => / INFO  No login in progress .* code=login_expired status=400$/.test(l)), lines.join('\n'));
  });

  it('json: every line is one JSON object, the banner among them; demo passwords are not logged', async (t) => {
    const lines = (await runCli(t, 'json')).split('\n').filter((l) => l !== '');
    const entries = lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return assert.fail(`not a JSON line: ${JSON.stringify(line)}\n${lines.join('\n')}`);
      }
    });
    for (const entry of entries) assert.equal(typeof entry.level, 'number');
    const banner = entries.find((e) => typeof e.msg === 'string' && /^Keygate \d+\.\d+\.\d+ listening on http:\/\/127\.0\.0\.1:\d+$/.test(e.msg));
    assert.ok(banner, lines.join('\n'));
    assert.equal(banner.mode, 'development');
    assert.deepEqual(banner.users, ['alice@example.com', 'bob@example.com']);
    assert.ok(entries.some((e) => e.code === 'invalid_token' && e.status === 401));
    assert.ok(!lines.join('\n').includes('alice@example.com / alice'));
  });
});
