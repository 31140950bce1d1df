/**
 * Every fenced code block of README.md and docs/*.md is run or checked by the rule of its info string (rules.ts;
 * the table is in docs/contributing.md), and every relative link points at an existing file and heading. The second
 * part feeds the same rules broken blocks and links, so that this test cannot pass by checking nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLinks, docFiles, links, parseMarkdown, readRepoFile, type Block } from './markdown.js';
import { checkBlocks } from './rules.js';
import { loadShellFacts } from './shell.js';

function allDocs() {
  const blocks: Block[] = [];
  const problems: string[] = [];
  const found = [];
  for (const file of docFiles()) {
    const parsed = parseMarkdown(file, readRepoFile(file)!);
    blocks.push(...parsed.blocks);
    problems.push(...parsed.problems);
    found.push(...links(file, parsed.prose));
  }
  return { blocks, problems, links: found };
}

describe('the code blocks and links of README.md and docs/*.md', () => {
  const docs = allDocs();

  it('every block passes the rule of its info string (fragments counted and printed)', (t) => {
    const started = performance.now();
    const report = checkBlocks(docs.blocks);
    const summary = [...report.checked].map(([lang, n]) => `${lang} ${n}`).join(', ');
    t.diagnostic(`${docs.blocks.length} blocks in ${docFiles().length} files (${summary}) checked in ${Math.round(performance.now() - started)} ms`);
    t.diagnostic(`${report.fragments.length} fragments (parsed only):`);
    for (const f of report.fragments) t.diagnostic(`  ${f.file}:${f.line} ${f.lang}: ${f.fragment}`);
    assert.deepEqual([...docs.problems, ...report.problems], []);
    assert.ok(docs.blocks.length >= 20, `only ${docs.blocks.length} blocks found: is the extraction broken?`);
  });

  it('every relative link names an existing file, and its #anchor an existing heading', () => {
    assert.ok(docs.links.length >= 20, `only ${docs.links.length} links found`);
    assert.deepEqual(checkLinks(docs.links, readRepoFile), []);
  });

  it('the README stays a two-minute read: at most ~200 lines, the "protect your own API" snippet at most 15 lines', () => {
    const readme = readRepoFile('README.md')!;
    assert.ok(readme.split('\n').length <= 210, `README.md has ${readme.split('\n').length} lines`);
    const section = readme.slice(readme.indexOf('## Protect your own API'), readme.indexOf('## Put it in front of any API'));
    const snippet = parseMarkdown('README.md', section).blocks.find((b) => b.lang === 'js');
    assert.ok(snippet, 'no js block in "Protect your own API"');
    assert.ok(snippet.code.trimEnd().split('\n').length <= 15, `the snippet has ${snippet.code.trimEnd().split('\n').length} lines`);
  });
});

describe('the rules refuse broken blocks and links', () => {
  const facts = loadShellFacts();
  const block = (lang: string, code: string, fragment?: string): Block => ({ file: 'bad.md', line: 1, lang, code, ...(fragment ? { fragment } : {}) });
  const problemsOf = (...blocks: Block[]) => checkBlocks(blocks, facts).problems;

  it('ts: a type error in a block that imports the package', () => {
    const problems = problemsOf(block('ts', "import { keygatePlugin } from 'keygate/fastify';\nconst n: number = keygatePlugin;\n"), block('ts', "import { nothing } from 'keygate';\n"));
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0]!, /^bad\.md:3:\d+: TS2322/);
    assert.match(problems[1]!, /TS2305/);
  });

  it('js: a syntax error, an import that does not resolve, a name the entry does not export', () => {
    const problems = problemsOf(block('js', 'const = 1;\n'), block('js', "import { x } from 'keygate/nowhere';\n"), block('js', "import { keygatePlugin, protect } from 'keygate/fastify';\n"));
    assert.match(problems[0]!, /^bad\.md:2:\d+: TS1134/);
    assert.deepEqual(problems.filter((p) => !p.includes('TS1134')), ["bad.md:2: cannot resolve the import 'keygate/nowhere'", "bad.md:2: 'keygate/fastify' exports no 'protect'"]);
  });

  it('a fragment is not type-checked, but its reason is required', () => {
    assert.deepEqual(problemsOf(block('ts', 'request.headers;\n', 'uses the framework request')), []);
    assert.equal(problemsOf(block('ts', 'request.headers;\n')).length, 1);
  });

  it('sh: bash syntax, unknown scripts, variables and keygate options, missing paths (globs expanded)', () => {
    assert.match(problemsOf(block('sh', 'if then fi\n'))[0]!, /bash -n/);
    assert.match(problemsOf(block('sh', 'npm run no-such-script\n'))[0]!, /npm run no-such-script: no such script/);
    assert.match(problemsOf(block('sh', 'NOT_A_SETTING=1 npm start\n'))[0]!, /NOT_A_SETTING is set for a command but no part of Keygate reads it/);
    assert.match(problemsOf(block('sh', "export REDIS_URL=redis://x NOT_READ=1\n"))[0]!, /NOT_READ/);
    assert.match(problemsOf(block('sh', 'TOKEN=$(npx keygate token --usr alice@example.com)\n'))[0]!, /keygate --usr: not in keygate's usage/);
    assert.match(problemsOf(block('sh', "sh -c 'npm start & npm run nope'\n"))[0]!, /npm run nope/);
    assert.match(problemsOf(block('sh', 'node --test test/nowhere/*.test.ts\n'))[0]!, /test\/nowhere\/\*\.test\.ts does not exist/);
    assert.match(problemsOf(block('sh', 'envsubst < deploy/nginx/missing.conf\n'))[0]!, /deploy\/nginx\/missing\.conf does not exist/);
    // And what is right passes: settings, placeholders, scripts, globs, a shell variable, a comment.
    assert.deepEqual(problemsOf(block('sh', 'TOKEN=$(npx keygate token --user a@example.com --base-url http://x)\nLISTEN=80 KEYGATE=k APP_ADDRESS=u envsubst < deploy/nginx/keygate.conf # fill\nAUDIENCE=https://a SCOPE="openid email" npm start\nnode --import tsx --test test/docs/*.test.ts && npm run bench\n')), []);
  });

  it('json, yaml, nginx and an unknown info string', () => {
    assert.match(problemsOf(block('json', '{ "a": 1, }\n'))[0]!, /^bad\.md:1: json:/);
    assert.match(problemsOf(block('yaml', 'a:\n\tb: 1\n'))[0]!, /^bad\.md:1: yaml:/);
    assert.match(problemsOf(block('nginx', 'server { listen ${LISTEN}; no_such_directive on; }\n'))[0]!, /nginx -t: .*no_such_directive/);
    assert.deepEqual(problemsOf(block('nginx', 'server { listen ${LISTEN}; location / { return 204; } }\n')), []);
    assert.match(problemsOf(block('python', 'print(1)\n'))[0]!, /no rule for the info string "python"/);
  });

  it('links: a missing file, a missing anchor', () => {
    const found = links('docs/x.md', [{ line: 3, text: 'see [a](missing.md), [b](configuration.md#no-such-heading), [c](configuration.md#variables) and `[d](ignored.md)`' }]);
    assert.deepEqual(checkLinks(found, readRepoFile), [
      'docs/x.md:3: link to missing.md: docs/missing.md does not exist',
      'docs/x.md:3: link to configuration.md#no-such-heading: docs/configuration.md has no heading with the anchor #no-such-heading',
    ]);
  });
});
