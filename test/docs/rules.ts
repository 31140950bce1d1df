/**
 * One rule per info string for the code blocks of README.md and docs/*.md (docs/contributing.md has the table).
 * `checkBlocks` runs them all: the `ts`/`js` blocks in one TypeScript program, the others one by one. A block marked
 * as a fragment is still parsed where its language allows, but not type-checked, run or resolved.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseYaml } from '../helpers/yaml-subset.js';
import type { Block } from './markdown.js';
import { bashSyntax, checkCommands, loadShellFacts, type ShellFacts } from './shell.js';
import { checkScriptBlocks } from './typescript.js';

export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';
export const CADDY = process.env.CADDY_PATH ?? '/usr/bin/caddy';

const SCRIPT = new Set(['ts', 'typescript', 'js']);
const SHELL = new Set(['sh', 'bash', 'console']);
const FREE = new Set(['http', 'text', '']);
export const KNOWN = new Set([...SCRIPT, ...SHELL, ...FREE, 'json', 'yaml', 'yml', 'nginx', 'caddyfile']);

const at = (block: Block) => `${block.file}:${block.line}`;

export function checkJson(block: Block): string[] {
  try {
    JSON.parse(block.code);
    return [];
  } catch (error) {
    return [`${at(block)}: json: ${(error as Error).message}`];
  }
}

export function checkYaml(block: Block): string[] {
  try {
    parseYaml(block.code);
    return [];
  } catch (error) {
    return [`${at(block)}: yaml: ${(error as Error).message}`];
  }
}

/** Placeholder values as test/deploy gives them, so a block copied from deploy/ checks as the file does. */
const PLACEHOLDERS = { LISTEN: '127.0.0.1:18080', KEYGATE: '127.0.0.1:14000', KEYGATE_PATH: '', APP_ADDRESS: '127.0.0.1:18000' };

/** As test/helpers/edge-proxy.ts fills them (envsubst with named variables), without loading that helper's servers. */
function fillPlaceholders(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** `nginx -t` on the block as the `http {}` context's content, in a scratch prefix (no root, no system files). */
export function checkNginx(block: Block): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-docs-nginx-'));
  try {
    writeFileSync(join(dir, 'site.conf'), fillPlaceholders(block.code, PLACEHOLDERS));
    const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(dir, kind)};`);
    writeFileSync(join(dir, 'nginx.conf'), ['daemon off;', 'master_process off;', `pid ${join(dir, 'nginx.pid')};`, 'error_log stderr warn;', 'events { }', 'http {', '  access_log off;', ...temps, `  include ${join(dir, 'site.conf')};`, '}', ''].join('\n'));
    const result = spawnSync(NGINX, ['-t', '-q', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], { encoding: 'utf8', timeout: 20_000 });
    if (result.error) return [`${at(block)}: nginx: cannot run ${NGINX} (${result.error.message}): bash scripts/test-deps.sh installs nginx-light`];
    return result.status === 0 ? [] : [`${at(block)}: nginx -t: ${result.stderr.trim()}`];
  } catch (error) {
    return [`${at(block)}: nginx: ${(error as Error).message}`];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `caddy adapt` with the variables deploy/caddy/Caddyfile reads. */
export function checkCaddyfile(block: Block): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-docs-caddy-'));
  try {
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'Caddyfile'), block.code);
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'data'), SITE: 'http://127.0.0.1:18080', CADDY_BIND: '127.0.0.1', CADDY_ADMIN: 'off', KEYGATE: '127.0.0.1:14000', KEYGATE_PATH: '', APP_ADDRESS: '127.0.0.1:18000' };
    const result = spawnSync(CADDY, ['adapt', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], { encoding: 'utf8', env, timeout: 20_000 });
    if (result.error) return [`${at(block)}: caddy: cannot run ${CADDY} (${result.error.message})`];
    return result.status === 0 ? [] : [`${at(block)}: caddy adapt: ${result.stderr.trim().split('\n').pop()}`];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Report {
  problems: string[];
  /** Blocks checked, by info string. */
  checked: Map<string, number>;
  fragments: Block[];
}

/** Runs every block's rule; the facts default to the repository's own. */
export function checkBlocks(blocks: readonly Block[], facts: ShellFacts = loadShellFacts()): Report {
  const problems: string[] = [];
  const checked = new Map<string, number>();
  const fragments = blocks.filter((b) => b.fragment !== undefined);
  const count = (lang: string) => checked.set(lang || '(none)', (checked.get(lang || '(none)') ?? 0) + 1);
  const scripts: Block[] = [];
  for (const block of blocks) {
    if (block.fragment !== undefined && block.fragment.trim() === '') problems.push(`${at(block)}: a fragment marker must give a reason`);
    if (!KNOWN.has(block.lang)) {
      problems.push(`${at(block)}: no rule for the info string "${block.lang}" (known: ${[...KNOWN].filter(Boolean).join(', ')})`);
      continue;
    }
    count(block.lang);
    if (SCRIPT.has(block.lang)) {
      if (block.fragment === undefined) scripts.push({ ...block, lang: block.lang === 'js' ? 'js' : 'ts' });
    } else if (SHELL.has(block.lang)) {
      problems.push(...bashSyntax(block));
      if (block.fragment === undefined) problems.push(...checkCommands(block, facts));
    } else if (block.lang === 'json') problems.push(...checkJson(block));
    else if (block.lang === 'yaml' || block.lang === 'yml') problems.push(...checkYaml(block));
    else if (block.lang === 'nginx') {
      if (block.fragment === undefined) problems.push(...checkNginx(block));
    } else if (block.lang === 'caddyfile') {
      if (block.fragment === undefined) problems.push(...checkCaddyfile(block));
    }
  }
  if (scripts.length > 0) problems.push(...checkScriptBlocks(scripts));
  return { problems, checked, fragments };
}
