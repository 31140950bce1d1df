/* "Your sessions": the caller's live logins from GET /sessions (with the session cookie), refreshed every few
   seconds, with an End button each (DELETE /sessions/:id; the browser marks it same-origin, which the server
   requires). Ending this device's own session logs this page out. Text only: nothing is parsed as HTML. */
import { byId, setText } from './dom.js';
import { parseJson, sameOriginPath } from './http.js';

const POLL_MS = 3000;

function when(iso) {
  if (typeof iso !== 'string' || !iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '—' : date.toLocaleString();
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

export function startSessions() {
  const card = byId('sessions');
  const tbody = byId('sessions-body');
  if (!card || !tbody) return;
  const url = sameOriginPath(card.getAttribute('data-sessions-url'), '/sessions');
  const home = sameOriginPath(card.getAttribute('data-home-url'), '/');
  const status = byId('sessions-status');
  let timer;

  function row(session) {
    const tr = document.createElement('tr');
    tr.setAttribute('data-session-id', String(session.id));
    const device = cell(typeof session.user_agent === 'string' && session.user_agent ? session.user_agent : 'Unknown device');
    device.classList.add('break');
    if (session.current) {
      const badge = document.createElement('span');
      badge.className = 'badge ok';
      badge.textContent = 'this device';
      device.append(' ', badge);
      tr.classList.add('current');
    }
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'button small danger';
    button.textContent = 'End';
    button.setAttribute('aria-label', session.current ? 'End this session (logs this page out)' : 'End this session');
    button.addEventListener('click', () => end(session, button));
    const action = document.createElement('td');
    action.append(button);
    tr.append(device, cell(session.client_address || '—'), cell(when(session.created_at)), cell(when(session.last_used_at)), action);
    return tr;
  }

  function show(sessions) {
    tbody.replaceChildren(...sessions.map(row));
    card.setAttribute('data-state', 'ok');
    setText(status, sessions.length === 1 ? '1 active session' : `${sessions.length} active sessions`);
  }

  function loggedOut() {
    tbody.replaceChildren();
    card.setAttribute('data-state', 'logged-out');
    setText(status, 'Not logged in');
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(load, POLL_MS);
  }

  function load() {
    fetch(url, { method: 'GET', credentials: 'same-origin', headers: { Accept: 'application/json' }, cache: 'no-store', redirect: 'error' })
      .then((res) => res.text().then((text) => {
        const body = parseJson(text);
        if (res.ok && body && Array.isArray(body.sessions)) show(body.sessions);
        else if (res.status === 401) loggedOut();
        else setText(status, `Could not list the sessions (HTTP ${res.status})`);
      }))
      .catch(() => setText(status, 'Keygate unreachable'))
      .then(schedule);
  }

  function end(session, button) {
    button.disabled = true;
    fetch(`${url}/${encodeURIComponent(String(session.id))}`, {
      method: 'DELETE',
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
      redirect: 'error',
    })
      .then((res) => res.text().then((text) => {
        const body = parseJson(text);
        if (res.ok && body && body.current) {
          // This device's own login ended: the cookie is gone, so is this page.
          window.location.assign(home);
          return;
        }
        if (!res.ok) {
          button.disabled = false;
          setText(status, body && typeof body.error_description === 'string' ? body.error_description : `HTTP ${res.status}`);
        }
        load();
      }))
      .catch(() => {
        button.disabled = false;
        setText(status, 'Keygate unreachable');
      });
  }

  load();
}
