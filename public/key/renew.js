/* Renewal (REFRESH=true): the page asks POST /refresh for a new token shortly before the current one expires,
   or when "Renew now" is pressed, and shows it in place: token box, curl line, decoded header and claims. */
import { byId, setText } from './dom.js';
import { prettyJson } from './format.js';
import { parseJson, sameOriginPath } from './http.js';

/** Never renew more often than this, whatever the token's lifetime. */
const MIN_WAIT_MS = 30000;

/** A JWT segment (base64url JSON) pretty-printed, or a note when it is not one. */
function decodeSegment(segment) {
  try {
    const b64 = segment.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(b64 + '==='.slice((b64.length + 3) % 4));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return prettyJson(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)));
  } catch {
    return '(cannot be decoded)';
  }
}

function showNewToken(token) {
  const tokenBox = byId('token');
  const old = tokenBox ? tokenBox.value.trim() : '';
  if (tokenBox) tokenBox.value = token;
  const curl = byId('curl');
  if (curl && old) curl.textContent = (curl.textContent || '').split(old).join(token);
  const parts = token.split('.');
  setText(byId('token-header'), decodeSegment(parts[0] || ''));
  setText(byId('token-claims'), decodeSegment(parts[1] || ''));
}

/** `countdown` is what startCountdown returned: the renewal reads the expiry from it and moves it on. */
export function startRenewal(countdown) {
  const card = byId('token-card');
  // Same-origin path only; the session cookie authenticates the renewal.
  const url = sameOriginPath(card ? card.getAttribute('data-refresh-url') : null, null);
  const before = card ? Number(card.getAttribute('data-refresh-before')) : NaN;
  const status = byId('renew-status');
  let timer = null;
  let renewing = false;

  function schedule() {
    const exp = countdown.expiry();
    if (!url || !Number.isFinite(exp) || !Number.isFinite(before)) return;
    clearTimeout(timer);
    // Renew `before` seconds ahead, but at most every MIN_WAIT_MS; at once on load when that moment has passed.
    let wait = Math.max((exp - before) * 1000 - Date.now(), MIN_WAIT_MS);
    if (exp - before <= Date.now() / 1000 && timer === null) wait = 0;
    timer = setTimeout(renew, wait);
  }

  function answered(res, text) {
    const body = parseJson(text);
    if (res.status === 200 && body && typeof body.token === 'string') {
      showNewToken(body.token);
      countdown.setExpiry(body.expires_at);
      setText(status, `Renewed at ${new Date().toLocaleTimeString()}.`);
      schedule();
    } else {
      const msg = body && typeof body.error_description === 'string' ? body.error_description : `HTTP ${res.status}`;
      setText(status, `Could not renew: ${msg}`);
      if (res.status >= 500) schedule();
    }
  }

  function renew() {
    if (renewing || !url) return;
    renewing = true;
    setText(status, 'Renewing…');
    fetch(url, { method: 'POST', headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store', redirect: 'error' })
      .then((res) => res.text().then((text) => answered(res, text)))
      .catch(() => setText(status, 'Could not renew: Keygate unreachable.'))
      .then(() => { renewing = false; });
  }

  const button = byId('renew');
  if (button) button.addEventListener('click', renew);
  schedule();
}
