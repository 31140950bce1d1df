import { invalidRequest } from '../errors.js';

/** Longest original URI the edge reads; longer ones are refused rather than matched in part. */
export const MAX_URI_LENGTH = 8192;

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * A path that is already normal: segments of printable ASCII with no escape, `;`, `\` or `#`, none empty, and no
 * dot at either end of a segment (so no dot-segment). The general rules below leave such a path as it is, so it is
 * returned without being taken apart (the common case, on every request).
 */
const NORMAL = /^(?:\/[^/\\#%;.?\x00-\x20\x7f-\uffff]+(?:\.+[^/\\#%;.?\x00-\x20\x7f-\uffff]+)*)*\/?$/;

/**
 * The path of an original request URI as the route rules see it (RFC 3986 §6.2.2): percent-encoded unreserved
 * characters decoded, other escapes upper-cased, duplicate slashes collapsed, dot-segments removed. The query is
 * dropped. Anything that different servers read differently is refused with 400 `invalid_request` instead of
 * being matched one way and served another: an encoded `/` or `\` (`%2F`, `%5C`), a raw `\`, NUL or any control
 * or non-ASCII character, a double-encoded escape (`%25` + hex), a bad escape, dot-segments above the root, a
 * dot-segment with parameters (`..;`), a segment ending in a dot (`/admin.`), or a raw `#`.
 */
export function normalisePath(uri: string): string {
  if (uri.length > MAX_URI_LENGTH) throw invalidRequest(`The original URI is longer than ${MAX_URI_LENGTH} characters.`);
  const queryAt = uri.indexOf('?');
  const raw = queryAt === -1 ? uri : uri.slice(0, queryAt);
  if (!raw.startsWith('/')) throw invalidRequest('The original URI must be a path starting with "/".');
  return NORMAL.test(raw) ? raw : normaliseGeneral(raw);
}

/** The general rules of `normalisePath`, for a path (no query) that starts with "/". Exported for its tests. */
export function normaliseGeneral(raw: string): string {
  // Printable ASCII only: browsers and servers disagree on what tabs, NUL, spaces and raw UTF-8 mean in a path.
  if (/[^\x21-\x7e]|[\\#]/.test(raw)) throw invalidRequest('The original path has a character that is not allowed raw (control, space, non-ASCII, "\\" or "#").');

  let decoded = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== '%') {
      decoded += c;
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw invalidRequest('The original path has a malformed percent-escape.');
    const code = Number.parseInt(hex, 16);
    const char = String.fromCharCode(code);
    if (code === 0x2f || code === 0x5c) throw invalidRequest('The original path has an encoded "/" or "\\" (%2F, %5C), which servers read differently.');
    if (code === 0x00) throw invalidRequest('The original path has an encoded NUL (%00).');
    if (code === 0x25 && /^[0-9A-Fa-f]{2}$/.test(raw.slice(i + 3, i + 5))) {
      throw invalidRequest('The original path is double-encoded (%25 followed by an escape), which servers read differently.');
    }
    decoded += UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
    i += 2;
  }

  const out: string[] = [];
  const segments = decoded.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    if (segment === '' && !last) continue; // duplicate slash
    const bare = segment.split(';', 1)[0]!;
    if (segment === '.') {
      if (last) out.push('');
      continue;
    }
    if (segment === '..') {
      if (out.length === 0) throw invalidRequest('The original path climbs above the root ("..").');
      out.pop();
      if (last) out.push('');
      continue;
    }
    if (bare === '.' || bare === '..') throw invalidRequest('The original path has a dot-segment with parameters (";"), which some servers resolve.');
    if (bare.endsWith('.')) throw invalidRequest('The original path has a segment ending in ".", which some servers strip.');
    out.push(segment);
  }
  return `/${out.join('/')}`;
}
