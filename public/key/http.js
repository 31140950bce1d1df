/* What the key-page modules that talk to Keygate (renew.js, live.js) share. */

/**
 * `value` when it is a path on this origin, else `fallback`: the session cookie or the token must never be sent
 * to another site. "//host" and "/\host" are other sites to a browser, so both are refused.
 */
export function sameOriginPath(value, fallback) {
  return typeof value === 'string' && /^\/(?![/\\])/.test(value) ? value : fallback;
}

/** The parsed JSON body, or null when it is empty or not JSON. */
export function parseJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}
