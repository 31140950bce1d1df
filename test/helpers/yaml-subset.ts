/**
 * A reader for the block-style YAML subset the files in deploy/ are written in (no YAML library is a dependency):
 * mappings, sequences, plain and quoted scalars, comments. Anything outside the subset (tabs, flow collections,
 * anchors, tags, block scalars, a repeated key) throws, so a file that leaves it fails its test rather than being
 * read wrongly.
 */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string;
  at: number;
}

function withoutComment(text: string): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || text[i - 1] === ' ')) return text.slice(0, i).trimEnd();
  }
  return text.trimEnd();
}

function scalar(raw: string, at: number): YamlValue {
  const fail = (why: string): never => {
    throw new Error(`line ${at}: ${why}: ${raw}`);
  };
  if (raw.startsWith('"')) {
    if (!raw.endsWith('"') || raw.length < 2) fail('unterminated double-quoted scalar');
    return JSON.parse(raw) as string;
  }
  if (raw.startsWith("'")) {
    if (!raw.endsWith("'") || raw.length < 2) fail('unterminated single-quoted scalar');
    return raw.slice(1, -1).replace(/''/g, "'");
  }
  if (/^[[{&*!|>%@`]/.test(raw)) fail('outside the supported subset');
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (raw === 'null' || raw === '~') return null;
  if (/^-?\d+$/.test(raw)) return Number(raw);
  if (/: |:$/.test(raw)) fail('a plain scalar with ": " (quote it)');
  return raw;
}

/** The key and the rest of a `key: value` line, or undefined when the line is not one. */
function keyOf(text: string): { key: string; rest: string } | undefined {
  const quoted = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'):(?: (.*))?$/.exec(text);
  if (quoted) return { key: scalar(quoted[1]!, 0) as string, rest: (quoted[2] ?? '').trim() };
  const plain = /^([^\s"'#\-[{][^:]*?):(?: (.*))?$/.exec(text);
  return plain ? { key: plain[1]!, rest: (plain[2] ?? '').trim() } : undefined;
}

export function parseYaml(text: string): YamlValue {
  const lines: Line[] = [];
  text.split('\n').forEach((raw, i) => {
    if (/\t/.test(raw.slice(0, raw.length - raw.trimStart().length))) throw new Error(`line ${i + 1}: a tab in the indentation`);
    const body = withoutComment(raw);
    if (body.trim() === '') return;
    if (body.trim() === '---') throw new Error(`line ${i + 1}: several documents are outside the subset`);
    lines.push({ indent: body.length - body.trimStart().length, text: body.trim(), at: i + 1 });
  });
  let pos = 0;

  const isItem = (line: Line) => line.text === '-' || line.text.startsWith('- ');

  function block(indent: number): YamlValue {
    const line = lines[pos];
    if (line === undefined || line.indent < indent) return null;
    return isItem(line) ? sequence(line.indent) : mapping(line.indent);
  }

  function mapping(indent: number): YamlValue {
    const map: { [key: string]: YamlValue } = {};
    while (pos < lines.length && lines[pos]!.indent === indent && !isItem(lines[pos]!)) {
      const line = lines[pos]!;
      const kv = keyOf(line.text);
      if (kv === undefined) throw new Error(`line ${line.at}: expected "key: value": ${line.text}`);
      if (Object.hasOwn(map, kv.key)) throw new Error(`line ${line.at}: the key "${kv.key}" is repeated`);
      pos++;
      if (kv.rest !== '') map[kv.key] = scalar(kv.rest, line.at);
      else {
        const next = lines[pos];
        // A sequence may sit at its key's own indentation.
        map[kv.key] = next && (next.indent > indent || (next.indent === indent && isItem(next))) ? block(next.indent) : null;
      }
    }
    if (pos < lines.length && lines[pos]!.indent > indent) throw new Error(`line ${lines[pos]!.at}: unexpected indentation`);
    return map;
  }

  function sequence(indent: number): YamlValue {
    const items: YamlValue[] = [];
    while (pos < lines.length && lines[pos]!.indent === indent && isItem(lines[pos]!)) {
      const line = lines[pos]!;
      const content = line.text.slice(1).trimStart();
      if (content === '') {
        pos++;
        items.push(block(indent + 1));
      } else if (keyOf(content) !== undefined) {
        // "- key: value" opens a mapping whose keys are aligned with "key".
        lines[pos] = { indent: indent + line.text.length - content.length, text: content, at: line.at };
        items.push(mapping(lines[pos]!.indent));
      } else {
        pos++;
        items.push(scalar(content, line.at));
      }
    }
    return items;
  }

  const value = block(0);
  if (pos < lines.length) throw new Error(`line ${lines[pos]!.at}: not read (bad indentation?)`);
  return value;
}
