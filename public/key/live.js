/* Live check: GET /protected with the token from the token box, once a second (each request waits for the
   previous answer, so a slow server never sees requests pile up), and show what it answered. */
import { byId, setText } from './dom.js';
import { avatarColorClass, initials, prettyJson } from './format.js';
import { parseJson, sameOriginPath } from './http.js';

const POLL_MS = 1000;
const TIMEOUT_MS = 5000;
const STATES = ['pending', 'ok', 'bad', 'down'];
const COLOR_CLASSES = [0, 1, 2, 3, 4, 5].map((i) => `avatar-c${i}`);
// Pictures inside the answer (data: images) are shown; a URL to another site is shown as text and never loaded.
const INLINE_IMAGE = /^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=]+$/;
const MAX_INLINE_IMAGE = 200000;
const MAX_PICTURE_TEXT = 120;

function str(v) {
  return typeof v === 'string' && v ? v : '—';
}

/** The profile inside a 200 answer: `profile`, else `user`, else the body itself. */
function profileOf(body) {
  if (body.profile && typeof body.profile === 'object') return body.profile;
  if (body.user && typeof body.user === 'object') return body.user;
  return body;
}

/** What went wrong, from an error answer: `error: error_description`, else the 401 challenge. */
function errorOf(res, body) {
  const err = body && typeof body === 'object' ? body : {};
  let msg = typeof err.error === 'string' ? err.error : '';
  if (typeof err.error_description === 'string' && err.error_description) {
    msg = msg ? `${msg}: ${err.error_description}` : err.error_description;
  }
  if (!msg && res.status === 401) {
    const challenge = res.headers.get('WWW-Authenticate');
    msg = challenge ? `WWW-Authenticate: ${challenge}` : 'unauthorized';
  }
  return msg || 'unexpected answer';
}

export function startLiveCheck() {
  const live = byId('live');
  const tokenEl = byId('token');
  if (!live || !tokenEl) return;
  // Same-origin only: the token must never be sent elsewhere.
  const url = sameOriginPath(live.getAttribute('data-protected-url'), '/protected');

  const statusEl = byId('live-status');
  const checkbox = byId('logged-in');
  const avatarEl = byId('live-avatar');
  const pictureImg = byId('live-picture-img');
  const errorEl = byId('live-error');
  const reloginEl = byId('live-relogin');
  const rawEl = byId('live-raw');

  function setState(state, statusText, loggedIn) {
    if (statusEl) {
      statusEl.textContent = statusText;
      for (const c of STATES) statusEl.classList.toggle(c, c === state);
    }
    if (checkbox) checkbox.checked = loggedIn;
    setText(byId('logged-in-text'), loggedIn ? 'Logged in' : 'Not logged in');
    live.classList.toggle('is-logged-in', loggedIn);
    live.setAttribute('data-state', state);
  }

  function setAvatar(profile) {
    if (!avatarEl) return;
    avatarEl.classList.remove(...COLOR_CLASSES, 'avatar-none');
    avatarEl.classList.add(profile ? avatarColorClass(String(profile.sub || profile.email || '')) : 'avatar-none');
    avatarEl.textContent = profile ? initials(profile) : '?';
  }

  function showPicture(picture) {
    const inline = typeof picture === 'string' && picture.length < MAX_INLINE_IMAGE && INLINE_IMAGE.test(picture);
    if (pictureImg) {
      if (inline) pictureImg.setAttribute('src', picture);
      else pictureImg.removeAttribute('src');
      pictureImg.hidden = !inline;
    }
    if (avatarEl) avatarEl.hidden = inline;
    const text = inline ? '(shown)' : str(picture);
    setText(byId('live-picture'), text.length > MAX_PICTURE_TEXT ? `${text.slice(0, MAX_PICTURE_TEXT - 3)}…` : text);
  }

  function showProfile(p) {
    setText(byId('live-email'), str(p && p.email));
    setText(byId('live-name'), str(p && p.name));
    showPicture(p && p.picture);
    setAvatar(p);
  }

  function showError(text) {
    if (!errorEl) return;
    errorEl.textContent = text;
    errorEl.hidden = !text;
  }

  function handle(res, text) {
    const body = parseJson(text);
    const statusLine = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    setText(rawEl, body !== null ? prettyJson(body) : text || '(empty body)');
    const ok = res.status === 200 && body !== null && typeof body === 'object';
    setState(ok ? 'ok' : 'bad', statusLine, ok);
    showProfile(ok ? profileOf(body) : null);
    showError(ok ? '' : errorOf(res, body));
    if (reloginEl) reloginEl.hidden = ok || !(res.status === 401 || res.status === 403);
  }

  function check() {
    const token = (tokenEl.value || '').trim();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    fetch(url, {
      method: 'GET',
      headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
      signal: controller.signal,
    })
      .then((res) => res.text().then((text) => {
        // Renewed while this request was out: the old token was just revoked, so its 401 says nothing about the
        // login. Shown, it would flash "Not logged in" after every renewal; the next check uses the new token.
        if ((tokenEl.value || '').trim() === token) handle(res, text);
      }))
      .catch((e) => {
        const timedOut = e && e.name === 'AbortError';
        setState('down', 'Keygate unreachable', false);
        showError(timedOut ? 'No answer within 5 seconds.' : `The request failed: ${e && e.message ? e.message : 'network error'}`);
        setText(rawEl, '(no answer)');
      })
      .then(() => {
        clearTimeout(timer);
        setText(byId('live-checked'), new Date().toLocaleTimeString());
        setTimeout(check, POLL_MS);
      });
  }

  check();
}
