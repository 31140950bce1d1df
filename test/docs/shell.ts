/**
 * The `sh`/`bash`/`console` rule: `bash -n` parses the block, then each simple command is checked against the
 * repository: `npm run <script>` (and `npm start`/`npm test`) needs the script in package.json, `npx keygate` a
 * subcommand and options its usage text names, a repository path (globs expanded) must exist, and a variable set for
 * a command (`NAME=value command`, `export NAME=value`) must be one Keygate reads in src/config, a placeholder of a
 * deploy/ file, or one read by the repository's own scripts (examples/, bench/, scripts/).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type Block } from './markdown.js';

/** What the commands of the docs are checked against. */
export interface ShellFacts {
  scripts: ReadonlySet<string>;
  variables: ReadonlySet<string>;
  /** Subcommands and options of `keygate`, from its usage texts. */
  keygateWords: ReadonlySet<string>;
}

function filesUnder(dir: string, ext: RegExp): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) found.push(...filesUnder(path, ext));
    else if (ext.test(entry.name)) found.push(path);
  }
  return found;
}

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

export function loadShellFacts(): ShellFacts {
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  const variables = new Set<string>();
  // src/config reads every variable by its quoted name (r.read('PORT'), r.int('PORT', …), names in lists).
  for (const file of filesUnder('src/config', /\.ts$/)) for (const m of read(file).matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)'/g)) variables.add(m[1]!);
  // deploy/ files: ${NAME} (envsubst), {$NAME} and {env.NAME} (Caddy).
  for (const file of filesUnder('deploy', /./)) for (const m of read(file).matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}|\{\$([A-Z_][A-Z0-9_]*)\}|\{env\.([A-Z_][A-Z0-9_]*)\}/g)) variables.add((m[1] ?? m[2] ?? m[3])!);
  // The repository's own scripts and examples (npm run example:*, bench, propagation).
  for (const dir of ['examples', 'bench', 'scripts']) {
    for (const file of filesUnder(dir, /\.(ts|js|mjs)$/)) {
      const text = read(file);
      for (const m of text.matchAll(/\benv(?:\.([A-Z_][A-Z0-9_]*)|\[['"]([A-Z_][A-Z0-9_]*)['"]\])/g)) variables.add((m[1] ?? m[2])!);
      // A file that reads the environment through a helper (num('BENCH_ROUNDS', 3)) names the variable quoted.
      if (text.includes('process.env')) for (const m of text.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)) variables.add(m[1]!);
    }
  }
  const usage = read('src/cli/keygate.ts') + read('src/cli/token.ts');
  const keygateWords = new Set([...usage.matchAll(/Usage: keygate ([^\n]*)/g)].flatMap((m) => [...m[1]!.matchAll(/(--?[a-z][a-z-]*|\b[a-z]+\b)/g)].map((w) => w[1]!)));
  return { scripts: new Set(Object.keys(pkg.scripts)), variables, keygateWords };
}

/** `bash -n`: the block parses as a script. */
export function bashSyntax(block: Block): string[] {
  const result = spawnSync('bash', ['-n'], { input: commandText(block), encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 ? [] : [`${block.file}:${block.line}: bash -n: ${(result.stderr || result.error?.message || '').trim()}`];
}

/** A `console` block's commands are its `$ ` lines; other blocks are scripts as they stand. */
function commandText(block: Block): string {
  if (block.lang !== 'console') return block.code;
  return block.code.split('\n').filter((line) => line.startsWith('$ ')).map((line) => line.slice(2)).join('\n') + '\n';
}

/**
 * The simple commands of a line (split at unquoted `;`, `|`, `&`, `&&`, `||`), each as its words with quotes
 * removed; the `$(…)` inside it go to `nested`, to be checked as lines of their own.
 */
function commands(line: string, nested: string[]): string[][] {
  const all: string[][] = [];
  let out: string[] = [];
  let word = '';
  let has = false;
  const endWord = () => {
    if (has) out.push(word);
    word = '';
    has = false;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '$' && line[i + 1] === '(') {
      let depth = 1;
      let j = i + 2;
      for (; j < line.length && depth > 0; j++) depth += line[j] === '(' ? 1 : line[j] === ')' ? -1 : 0;
      nested.push(line.slice(i + 2, j - 1));
      word += '$SUBST';
      has = true;
      i = j - 1;
    } else if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      const inner = line.slice(i + 1, end === -1 ? undefined : end);
      if (c === '"') for (const m of inner.matchAll(/\$\(([^)]*)\)/g)) nested.push(m[1]!);
      word += inner;
      has = true;
      i = end === -1 ? line.length : end;
    } else if (c === '#' && !has) {
      break;
    } else if (c === ';' || c === '|' || c === '&') {
      endWord();
      if (out.length > 0) all.push(out);
      out = [];
    } else if (/\s/.test(c)) {
      endWord();
    } else {
      word += c;
      has = true;
    }
  }
  endWord();
  if (out.length > 0) all.push(out);
  return all;
}

/** Expands a repository path with `*` in its segments (fs.globSync is Node 22+). */
function expand(path: string): string[] {
  let found = [''];
  for (const segment of path.split('/')) {
    if (segment === '') continue;
    const pattern = new RegExp(`^${segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    found = found.flatMap((dir) => {
      if (!segment.includes('*')) return existsSync(join(ROOT, dir, segment)) ? [join(dir, segment)] : [];
      try {
        return readdirSync(join(ROOT, dir)).filter((name) => pattern.test(name)).map((name) => join(dir, name));
      } catch {
        return [];
      }
    });
  }
  return found;
}

const REPO_PATH = /^(src|test|docs|deploy|examples|scripts|bench|public)\/[^\s]*$/;

/** Checks one simple command (its words); pushes what is wrong. */
function checkCommand(argv: string[], facts: ShellFacts, where: string, problems: string[], nested: string[]): void {
  let i = 0;
  const setVariable = (assignment: string) => {
    const name = assignment.slice(0, assignment.indexOf('='));
    if (!facts.variables.has(name)) problems.push(`${where}: ${name} is set for a command but no part of Keygate reads it (src/config, deploy/ placeholders, examples/, bench/, scripts/)`);
  };
  while (i < argv.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[i]!)) i++;
  const command = argv.slice(i);
  if (command.length > 0) argv.slice(0, i).forEach(setVariable);
  if (command[0] === 'export') command.slice(1).filter((w) => w.includes('=')).forEach(setVariable);
  for (const word of command) {
    const path = word.replace(/^[<>]+/, '');
    if (REPO_PATH.test(path) && expand(path).length === 0) problems.push(`${where}: ${path} does not exist in the repository`);
  }
  const [program, sub, ...rest] = command;
  if (program === 'npm') {
    if (sub === 'run' && rest[0] && !facts.scripts.has(rest[0])) problems.push(`${where}: npm run ${rest[0]}: no such script in package.json`);
    if ((sub === 'start' || sub === 'test') && !facts.scripts.has(sub)) problems.push(`${where}: npm ${sub}: no such script in package.json`);
  }
  if (program === 'npx' && sub === 'keygate') {
    for (const arg of rest) {
      if ((arg.startsWith('-') || /^[a-z]+$/.test(arg)) && !facts.keygateWords.has(arg) && !arg.includes('@')) problems.push(`${where}: keygate ${arg}: not in keygate's usage`);
    }
  }
  if ((program === 'sh' || program === 'bash') && sub === '-c' && rest[0]) nested.push(rest[0]);
}

/** The commands of a block checked against the repository. */
export function checkCommands(block: Block, facts: ShellFacts): string[] {
  const problems: string[] = [];
  const lines = commandText(block).replace(/\\\n/g, ' ').split('\n');
  const queue = lines.map((text, n) => ({ text, where: `${block.file}:${block.line + 1 + n}` }));
  while (queue.length > 0) {
    const { text, where } = queue.shift()!;
    const nested: string[] = [];
    for (const argv of commands(text, nested)) checkCommand(argv, facts, where, problems, nested);
    queue.push(...nested.map((inner) => ({ text: inner, where })));
  }
  return problems;
}
