import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

/**
 * docs/security.md and the tests cannot drift apart: every case id in the catalog is the start of exactly one
 * test name, and every test name that starts with a case id is in the catalog.
 */
const ROOT = new URL('../../', import.meta.url);
const ID = /^[A-Z]{2}-\d{2}$/;

function testFiles(dir: URL): URL[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? testFiles(new URL(`${entry.name}/`, dir)) : entry.name.endsWith('.test.ts') ? [new URL(entry.name, dir)] : [],
  );
}

export function catalogIds(markdown: string): string[] {
  return [...markdown.matchAll(/^\|\s*([A-Z]{2}-\d{2})\s*\|/gm)].map((m) => m[1]!);
}

export function testIds(source: string): string[] {
  return [...source.matchAll(/\b(?:it|test)\(\s*(['"`])([A-Z]{2}-\d{2})\b/g)].map((m) => m[2]!);
}

describe('docs/security.md lists exactly the cases the tests run', () => {
  const doc = catalogIds(readFileSync(new URL('docs/security.md', ROOT), 'utf8'));
  // This file's own self-check quotes ids in strings: leave it out of the scan.
  const tests = testFiles(new URL('test/', ROOT))
    .filter((file) => !file.pathname.endsWith('/security/catalog.test.ts'))
    .flatMap((file) => testIds(readFileSync(file, 'utf8')));

  it('every catalog id is a test, and every test id is in the catalog, each once', () => {
    assert.ok(doc.every((id) => ID.test(id)));
    assert.deepEqual(doc.filter((id, i) => doc.indexOf(id) !== i), [], 'ids repeated in docs/security.md');
    assert.deepEqual(tests.filter((id, i) => tests.indexOf(id) !== i), [], 'ids repeated in test names');
    assert.deepEqual(doc.filter((id) => !tests.includes(id)), [], 'in docs/security.md but no test');
    assert.deepEqual(tests.filter((id) => !doc.includes(id)), [], 'tested but not in docs/security.md');
  });

  it('the catalog has at least 90 cases, with the minimum per group', () => {
    const count = (prefix: string) => doc.filter((id) => id.startsWith(`${prefix}-`)).length;
    assert.ok(doc.length >= 90, String(doc.length));
    assert.ok(count('BV') >= 35, `bearer ${count('BV')}`);
    assert.ok(count('LC') >= 20, `login ${count('LC')}`);
    assert.ok(count('SL') >= 12, `sessions ${count('SL')}`);
    assert.ok(count('HT') >= 10, `http ${count('HT')}`);
    assert.ok(count('KJ') >= 10, `keys ${count('KJ')}`);
  });

  it('the id scanners find ids in both forms and nothing else (self-check)', () => {
    assert.deepEqual(catalogIds('| BV-01 | x |\n| not | y |\n|LC-02| z |\ntext BV-03'), ['BV-01', 'LC-02']);
    assert.deepEqual(testIds("it('BV-01 a', …); test(\"HT-02 b\"); it('nothing'); it(`KJ-03 c`)"), ['BV-01', 'HT-02', 'KJ-03']);
  });
});
