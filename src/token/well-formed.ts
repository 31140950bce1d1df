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
  const first = token.indexOf('.');
  parseWellFormed(token, first, token.indexOf('.', first + 1));
}

/** Header and payload of a token, each decoded and parsed once (by `parseWellFormed`). */
export interface ParsedSegments {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/**
 * `assertWellFormed`'s checks, in the same order with the same errors, returning the parsed header and payload so
 * that the verifier does not decode them again. `first` and `second` are the indices of the token's first two dots.
 */
export function parseWellFormed(token: string, first: number, second: number): ParsedSegments {
  const headerText = decodeSegment(token.slice(0, first), 'header');
  const payloadText = decodeSegment(token.slice(first + 1, second), 'payload');
  const header = parseObject(headerText, 'header');
  const payload = parseObject(payloadText, 'payload');
  if (hasDuplicateMembers(headerText) || hasDuplicateMembers(payloadText)) {
    throw invalidToken('The token repeats a JSON member name.');
  }
  if ('b64' in header) throw invalidToken('Tokens with an unencoded payload (b64) are not accepted.');
  if ('kid' in header && (typeof header.kid !== 'string' || header.kid.length > 256)) {
    throw invalidToken('The token\'s key id (kid) must be a short string.');
  }
  return { header, payload };
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

/**
 * True when an object anywhere in this (valid) JSON text repeats a member name, after unescaping. One pass over the
 * char codes; a member name without a backslash is compared as it is written (in valid JSON that is its value), only
 * a name with escapes is unescaped by `JSON.parse`.
 */
export function hasDuplicateMembers(json: string): boolean {
  const stack: Array<Set<string> | null> = [];
  let members: Set<string> | null = null;
  let expectKey = false;
  const n = json.length;
  for (let i = 0; i < n; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      while (j < n) {
        const d = json.charCodeAt(j);
        if (d === 0x22) break;
        if (d === 0x5c /* \ */) {
          escaped = true;
          j += 2;
        } else j++;
      }
      if (expectKey && members !== null) {
        const name = escaped ? (JSON.parse(json.slice(i, j + 1)) as string) : json.slice(i + 1, j);
        if (members.has(name)) return true;
        members.add(name);
      }
      expectKey = false;
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push(members);
      members = new Set();
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(members);
      members = null;
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      members = stack.pop() ?? null;
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = members !== null;
    }
  }
  return false;
}
