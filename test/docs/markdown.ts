/**
 * The pieces of the docs' Markdown that the docs test checks: fenced code blocks (with their info string and an
 * optional `<!-- docs-test: fragment: <reason> -->` marker on the line before the fence), headings (as GitHub turns
 * them into anchors) and relative links.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Block {
  /** Path relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word, lower case ('' when none). */
  lang: string;
  code: string;
  /** The reason given by a fragment marker, when the block has one. */
  fragment?: string;
}

export interface Link {
  file: string;
  line: number;
  target: string;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/;
const FRAGMENT = /^\s*<!--\s*docs-test:\s*fragment:\s*(.+?)\s*-->\s*$/;

/** README.md and docs/*.md, as paths relative to the root. */
export function docFiles(root = ROOT): string[] {
  const docs = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).sort();
  return ['README.md', ...docs.map((name) => `docs/${name}`)];
}

/** Splits a Markdown text into fenced blocks and the prose lines outside them (for links). */
export function parseMarkdown(file: string, text: string): { blocks: Block[]; prose: Array<{ line: number; text: string }>; problems: string[] } {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  const prose: Array<{ line: number; text: string }> = [];
  const problems: string[] = [];
  let pendingFragment: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const open = FENCE.exec(line);
    if (!open) {
      const marker = FRAGMENT.exec(line);
      if (marker) pendingFragment = marker[1];
      else if (line.trim() !== '') pendingFragment = undefined;
      prose.push({ line: i + 1, text: line });
      continue;
    }
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = lines[j]!;
      if (close.trim().startsWith(fence[0]!.repeat(fence.length)) && close.trim().replace(/[`~]/g, '') === '') break;
      // A fence indented inside a list item: its lines carry the same indentation.
      body.push(close.startsWith(indent) ? close.slice(indent.length) : close.trimStart());
    }
    if (j === lines.length) problems.push(`${file}:${i + 1}: a code fence that is never closed`);
    blocks.push({ file, line: i + 1, lang: info.toLowerCase(), code: body.join('\n') + '\n', ...(pendingFragment !== undefined ? { fragment: pendingFragment } : {}) });
    pendingFragment = undefined;
    i = j;
  }
  return { blocks, prose, problems };
}

/** The anchor GitHub gives a heading: lower case, punctuation dropped (but `-` and `_`), spaces to `-`. */
export function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor of a Markdown text, numbered as GitHub numbers repeated headings (`x`, `x-1`, …). */
export function anchors(text: string): Set<string> {
  const found = new Set<string>();
  const counts = new Map<string, number>();
  for (const { text: line } of parseMarkdown('', text).prose) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]!);
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    found.add(n === 0 ? base : `${base}-${n}`);
  }
  return found;
}

/** Relative links (inline `[text](target)` and reference definitions `[x]: target`), outside code. */
export function links(file: string, prose: Array<{ line: number; text: string }>): Link[] {
  const found: Link[] = [];
  for (const { line, text } of prose) {
    const withoutCode = text.replace(/`[^`]*`/g, '');
    for (const match of withoutCode.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) found.push({ file, line, target: match[1]! });
    const reference = /^\s*\[[^\]]+\]:\s*(\S+)/.exec(withoutCode);
    if (reference) found.push({ file, line, target: reference[1]! });
  }
  return found.filter((link) => !/^[a-z][a-z0-9+.-]*:/i.test(link.target));
}

/** Problems of relative links: a missing file, or an anchor that no heading of the target gives. */
export function checkLinks(all: Link[], read: (path: string) => string | undefined): string[] {
  const problems: string[] = [];
  for (const link of all) {
    const [path, anchor] = link.target.split('#', 2) as [string, string | undefined];
    const target = path === '' ? link.file : relative(ROOT, join(ROOT, link.file, '..', decodeURIComponent(path)));
    const text = read(target);
    if (text === undefined) {
      problems.push(`${link.file}:${link.line}: link to ${link.target}: ${target} does not exist`);
      continue;
    }
    if (anchor !== undefined && anchor !== '' && target.endsWith('.md') && !anchors(text).has(anchor)) {
      problems.push(`${link.file}:${link.line}: link to ${link.target}: ${target} has no heading with the anchor #${anchor}`);
    }
  }
  return problems;
}

/** Reads a file of the repository, or undefined when it does not exist (a directory counts as existing). */
export function readRepoFile(path: string): string | undefined {
  try {
    return readFileSync(join(ROOT, path), 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EISDIR' ? '' : undefined;
  }
}
