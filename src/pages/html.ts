/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Pretty-prints a value as JSON for display; never throws (BigInt, cycles fall back to a note). */
export function prettyJson(value: unknown): string {
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
    return text === undefined ? String(value) : text;
  } catch {
    return '(value cannot be shown as JSON)';
  }
}

/** Builds an href for a static file served under /static/. */
export function staticHref(name: string): string {
  return '/static/' + name.split('/').map(encodeURIComponent).join('/');
}
