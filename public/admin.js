/* Keygate administration page, entry module (served as /static/admin.js under the strict CSP, nothing inline).
   Searches sessions (GET /admin/sessions), ends one (DELETE /admin/sessions/:id) or all of a user's
   (POST /admin/users/:sub/logout), with the session cookie; the browser marks these same-origin, as the server
   requires. Ending the administrator's own current session asks first. Text only: nothing is parsed as HTML. */
import { byId, setText } from './key/dom.js';
import { parseJson, sameOriginPath } from './key/http.js';

const PAGE_SIZE = 50;

const card = byId('admin');
const form = byId('admin-search');
const tbody = document.querySelector('#admin-sessions tbody');
const status = byId('admin-status');
const more = byId('admin-more');
const endAll = byId('admin-end-all');
const confirmBox = byId('admin-confirm');

if (card && form && tbody) {
  const sessionsUrl = sameOriginPath(card.getAttribute('data-sessions-url'), '/admin/sessions');
  const usersUrl = sameOriginPath(card.getAttribute('data-users-url'), '/admin/users/');
  const home = sameOriginPath(card.getAttribute('data-home-url'), '/');
  let query = '';
  let cursor = null;
  let shown = [];
  let pendingConfirm = null;

  const when = (iso) => {
    const date = typeof iso === 'string' ? new Date(iso) : null;
    return date && !Number.isNaN(date.getTime()) ? date.toLocaleString() : '—';
  };
  const cell = (text) => {
    const td = document.createElement('td');
    td.textContent = text;
    return td;
  };

  /** Runs `action` now, or after the administrator confirms when it would end their own current session. */
  function guarded(ownCurrent, text, action) {
    if (!ownCurrent) return action();
    pendingConfirm = action;
    setText(byId('admin-confirm-text'), text);
    confirmBox.hidden = false;
    byId('admin-confirm-yes').focus();
  }
  byId('admin-confirm-yes').addEventListener('click', () => {
    const action = pendingConfirm;
    pendingConfirm = null;
    confirmBox.hidden = true;
    if (action) action();
  });
  byId('admin-confirm-no').addEventListener('click', () => {
    pendingConfirm = null;
    confirmBox.hidden = true;
  });

  function send(url, method) {
    return fetch(url, { method, credentials: 'same-origin', headers: { Accept: 'application/json' }, cache: 'no-store', redirect: 'error' })
      .then((res) => res.text().then((text) => ({ res, body: parseJson(text) })));
  }
  const problem = ({ res, body }) =>
    body && typeof body.error_description === 'string' ? `${body.error}: ${body.error_description}` : `HTTP ${res.status}`;

  function row(session) {
    const tr = document.createElement('tr');
    tr.setAttribute('data-session-id', String(session.id));
    const who = cell(session.email ? `${session.email} (${session.sub})` : String(session.sub));
    who.classList.add('break');
    if (session.current) {
      const badge = document.createElement('span');
      badge.className = 'badge ok';
      badge.textContent = 'you, this device';
      who.append(' ', badge);
    }
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'button small danger';
    button.textContent = 'End';
    button.addEventListener('click', () =>
      guarded(session.current, 'This is your own current session: ending it logs you out of this page.', () => endOne(session, button)));
    const action = document.createElement('td');
    action.append(button);
    tr.append(who, cell(when(session.created_at)), cell(when(session.last_used_at)), cell(when(session.expires_at)),
      cell(session.user_agent || '—'), cell(session.client_address || '—'), action);
    return tr;
  }

  function render() {
    tbody.replaceChildren(...shown.map(row));
    more.hidden = cursor === null;
    const subs = [...new Set(shown.map((s) => s.sub))];
    endAll.hidden = !(query !== '' && subs.length === 1);
    setText(status, `${shown.length} session${shown.length === 1 ? '' : 's'}${cursor === null ? '' : ' (more below)'}`);
  }

  function load(append) {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (query) params.set('user', query);
    if (append && cursor) params.set('cursor', cursor);
    setText(status, 'Searching…');
    send(`${sessionsUrl}?${params}`, 'GET')
      .then((answer) => {
        const { res, body } = answer;
        if (!res.ok || !body || !Array.isArray(body.sessions)) {
          setText(status, problem(answer));
          return;
        }
        shown = append ? shown.concat(body.sessions) : body.sessions;
        cursor = typeof body.next_cursor === 'string' ? body.next_cursor : null;
        render();
      })
      .catch(() => setText(status, 'Keygate unreachable'));
  }

  function endOne(session, button) {
    button.disabled = true;
    send(`${sessionsUrl}/${encodeURIComponent(String(session.id))}`, 'DELETE')
      .then((answer) => {
        if (answer.res.ok && answer.body && answer.body.current) return window.location.assign(home);
        if (!answer.res.ok && answer.res.status !== 404) {
          button.disabled = false;
          return setText(status, problem(answer));
        }
        shown = shown.filter((s) => s.id !== session.id);
        render();
        setText(status, 'Session ended.');
      })
      .catch(() => setText(status, 'Keygate unreachable'));
  }

  endAll.addEventListener('click', () => {
    const sub = shown[0] && shown[0].sub;
    if (!sub) return;
    const own = shown.some((s) => s.current);
    guarded(own, 'These sessions include your own current one: ending them all logs you out of this page.', () =>
      send(`${usersUrl}${encodeURIComponent(sub)}/logout`, 'POST')
        .then((answer) => {
          if (answer.res.ok && answer.body && answer.body.current) return window.location.assign(home);
          if (!answer.res.ok) return setText(status, problem(answer));
          shown = [];
          cursor = null;
          render();
          setText(status, `Ended ${answer.body.sessions_ended} session(s) of ${sub}.`);
        })
        .catch(() => setText(status, 'Keygate unreachable')));
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    query = (byId('admin-user').value || '').trim();
    cursor = null;
    load(false);
  });
  more.addEventListener('click', () => load(true));
  load(false);
}
