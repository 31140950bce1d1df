import { invalidToken } from '../errors.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Checks of a compact JWS that jose leaves to the caller, run on the canonical token before verification:
 * - header and payload are valid UTF-8 (RFC 7515 §5.2, RFC 7519 §7.2): jose's decoder would replace bad bytes;
 * - no JSON object repeats a member name (RFC 7515 §5.2 and RFC 7519 §4 allow a parser to keep the last one,
 *   but another component reading the same token may keep the first: refuse, so every reader sees one value);
 * - the header carries no `b64` (RFC 7797 unencoded payloads are not JWTs; without `crit` readers disagree);
 * - `kid`, when present, is a string of reasonable length (RFC 7515 §4.1.4).
 */
export function assertWellFormed(token: string): void {
  const [header, payload] = token.split('.') as [string, string];
  const headerText = decodeSegment(header, 'header');
  const payloadText = decodeSegment(payload, 'payload');
  const parsed = parseObject(headerText, 'header');
  parseObject(payloadText, 'payload');
  if (hasDuplicateMembers(headerText) || hasDuplicateMembers(payloadText)) {
    throw invalidToken('The token repeats a JSON member name.');
  }
  if ('b64' in parsed) throw invalidToken('Tokens with an unencoded payload (b64) are not accepted.');
  if ('kid' in parsed && (typeof parsed.kid !== 'string' || parsed.kid.length > 256)) {
    throw invalidToken('The token\'s key id (kid) must be a short string.');
  }
}

function decodeSegment(segment: string, name: string): string {
  try {
    return UTF8.decode(Buffer.from(segment, 'base64url'));
  } catch (error) {
    throw invalidToken(`The token's ${name} is not valid UTF-8.`, error);
  }
}

function parseObject(text: string, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalidToken(`The token's ${name} is not JSON.`, error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidToken(`The token's ${name} is not a JSON object.`);
  return value as Record<string, unknown>;
}

/** True when an object anywhere in this (valid) JSON text repeats a member name, after unescaping. */
export function hasDuplicateMembers(json: string): boolean {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (expectKey) {
        const members = stack.at(-1)!;
        const name = JSON.parse(json.slice(i, j + 1)) as string;
        if (members.has(name)) return true;
        members.add(name);
        expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
      expectKey = false;
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack.at(-1) instanceof Set;
    }
  }
  return false;
}
