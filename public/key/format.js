/* Pure formatting the key page needs both when the server renders it (src/pages/key.ts) and when the browser
   updates it (the modules beside this file). One implementation, so the first paint and the live updates cannot
   drift apart. No DOM and no Node APIs here; the server's types are in format.d.ts. */

/** Two digits: 7 → "07". */
function two(n) {
  return String(n).padStart(2, '0');
}

/**
 * "expires in 59:12" / "expires in 1:02:03" / "expired" / "no expiry claim".
 * `exp` and `nowSeconds` are epoch seconds; `nowSeconds` may carry a fraction (the browser's clock).
 */
export function expiryText(exp, nowSeconds) {
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'no expiry claim';
  const left = Math.floor(exp - nowSeconds);
  if (left <= 0) return 'expired';
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  return h > 0 ? `expires in ${h}:${two(m)}:${two(s)}` : `expires in ${m}:${two(s)}`;
}

/**
 * Up to two letters for an avatar: from the name, else the e-mail, else the subject.
 * Fields that are not strings are ignored: the browser passes whatever GET /protected answered.
 */
export function initials(profile) {
  const p = profile && typeof profile === 'object' ? profile : {};
  const name = typeof p.name === 'string' ? p.name.trim() : '';
  if (name) {
    const words = name.split(/\s+/);
    const first = Array.from(words[0] ?? '')[0] ?? '';
    const last = words.length > 1 ? (Array.from(words[words.length - 1] ?? '')[0] ?? '') : '';
    return (first + last).toUpperCase() || '?';
  }
  const source = typeof p.email === 'string' && p.email ? p.email : typeof p.sub === 'string' ? p.sub : '';
  return (Array.from(source.trim())[0] ?? '?').toUpperCase();
}

/** A stable colour class (avatar-c0 … avatar-c5) for an identity, so the avatar needs no inline style. */
export function avatarColorClass(seed) {
  const text = String(seed);
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) >>> 0;
  return `avatar-c${h % 6}`;
}

/** Pretty-prints a value as JSON for display; never throws (BigInt is shown as digits, a cycle as a note). */
export function prettyJson(value) {
  try {
    const text = JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
    return text === undefined ? String(value) : text;
  } catch {
    return '(value cannot be shown as JSON)';
  }
}
