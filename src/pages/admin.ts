import { escapeHtml } from './html.js';
import { layout } from './layout.js';

export interface AdminPageOptions {
  /** Who is signed in (e-mail or sub), shown in the heading. */
  email: string;
}

/**
 * The administration page: a search form and an empty table that public/admin.js fills from `GET /admin/sessions`.
 * Every action is a same-origin fetch with the session cookie (the server checks Sec-Fetch-Site/Origin).
 */
export function renderAdminPage(o: AdminPageOptions): string {
  const body = `
    <section class="page-head">
      <div>
        <h1>Sessions administration</h1>
        <p class="muted">Signed in as <strong>${escapeHtml(o.email)}</strong> · <a href="/key">Your API key</a></p>
      </div>
    </section>

    <section class="card" aria-labelledby="search-title">
      <h2 id="search-title">Find a user's sessions</h2>
      <form id="admin-search" class="admin-search">
        <label for="admin-user">E-mail or sub <span class="muted small">(empty: every session)</span></label>
        <input id="admin-user" name="user" type="text" maxlength="512" autocomplete="off" spellcheck="false">
        <button class="button primary small" type="submit">Search</button>
      </form>
      <p id="admin-status" class="meta" role="status" aria-live="polite"></p>
    </section>

    <section class="card" id="admin" aria-labelledby="results-title" data-sessions-url="/admin/sessions" data-users-url="/admin/users/" data-home-url="/">
      <div class="card-head">
        <h2 id="results-title">Sessions</h2>
        <span class="card-actions"><button class="button small danger" type="button" id="admin-end-all" hidden>End all sessions of this user</button></span>
      </div>
      <p id="admin-confirm" class="live-error" hidden>
        <span id="admin-confirm-text"></span>
        <button class="button small danger" type="button" id="admin-confirm-yes">Yes, end it</button>
        <button class="button small" type="button" id="admin-confirm-no">Cancel</button>
      </p>
      <table class="sessions" id="admin-sessions">
        <thead><tr><th>User</th><th>Created</th><th>Last used</th><th>Expires</th><th>Device</th><th>Address</th><th></th></tr></thead>
        <tbody></tbody>
      </table>
      <p><button class="button small" type="button" id="admin-more" hidden>More</button></p>
    </section>`;
  return layout({ title: 'Sessions administration', body, scripts: ['admin.js'] });
}
