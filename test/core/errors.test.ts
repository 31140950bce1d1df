import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ERROR_CODES, errorAnswer, KeygateError, type ErrorCode } from '../../src/errors.js';

describe('the error catalogue', () => {
  it('docs/errors.md documents every code with its status, and nothing else', async () => {
    const doc = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const rows = new Map<string, number>();
    for (const match of doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)) rows.set(match[1]!, Number(match[2]));
    const table = new Map(Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status as number]));
    assert.deepEqual([...rows].sort(), [...table].sort());
  });

  it('every code answers with its status, a no-store JSON body and, when not exposed, no detail', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const answer = errorAnswer(new KeygateError({ code, description: `secret detail of ${code}` }));
      assert.equal(answer.status, ERROR_CODES[code].status);
      assert.equal(answer.body.error, code);
      assert.equal(answer.headers['cache-control'], 'no-store');
      if (answer.status >= 500) assert.doesNotMatch(answer.body.error_description, /secret detail/, code);
      else assert.equal(answer.body.error_description, `secret detail of ${code}`);
    }
  });
});
