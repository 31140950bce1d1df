// The formatting the browser modules use too: one file, imported here and loaded by the page (public/key.js).
import { avatarColorClass, expiryText, initials, prettyJson } from '../../public/key/format.js';
import { escapeHtml } from './html.js';
import { layout } from './layout.js';

export interface KeyPageOptions {
  /** The API token (a JWT). */
  token: string;
  tokenKind: 'ID token' | 'access token';
  /** Decoded JOSE header. */
  header: Record<string, unknown>;
  /** Decoded payload. */
  claims: Record<string, unknown>;
  profile: { sub: string; email?: string; name?: string; picture?: string; email_verified?: boolean };
  /** Absolute URL of GET /protected, for the curl line. */
  protectedUrl: string;
  /** '/logout' */
  logoutAction: string;
  /** When REFRESH is on: the page renews the token through this endpoint this many seconds before it expires. */
  refresh?: { action: string; beforeSeconds: number };
  /** Same-origin paths (with BASE_URL's path) of `GET /sessions` and of the home page, for the sessions panel. */
  sessionsPath?: string;
  homePath?: string;
}

/** The same-origin path of the protected URL, for the browser's fetch. */
function protectedPath(protectedUrl: string): string {
  try {
    const u = new URL(protectedUrl, 'http://localhost/');
    return u.pathname + u.search;
  } catch {
    return '/protected';
  }
}

function epochSeconds(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? Math.floor(value) : undefined;
}

function isoTime(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export function renderKeyPage(o: KeyPageOptions): string {
  const exp = epochSeconds(o.claims.exp);
  const iat = epochSeconds(o.claims.iat);
  const expIso = isoTime(exp);
  const iatIso = isoTime(iat);
  const nowSeconds = Math.floor(Date.now() / 1000);
  const curl = `curl -H "Authorization: Bearer ${o.token}" ${o.protectedUrl}`;
  const p = o.profile;
  const displayName = p.name?.trim() || p.email || p.sub;
  const verified =
    p.email === undefined || p.email_verified === undefined
      ? ''
      : p.email_verified
        ? ' <span class="badge ok">verified</span>'
        : ' <span class="badge warn">not verified</span>';

  const body = `
    <section class="page-head">
      <div class="identity">
        <span class="avatar ${avatarColorClass(p.sub)}" aria-hidden="true">${escapeHtml(initials(p))}</span>
        <div>
          <h1>Your API key</h1>
          <p class="muted">Signed in as <strong>${escapeHtml(displayName)}</strong>${
            p.email && p.email !== displayName ? ` · ${escapeHtml(p.email)}` : ''
          }${verified}</p>
        </div>
      </div>
      <div class="logout-forms">
        <form class="logout-form" method="post" action="${escapeHtml(o.logoutAction)}">
          <button class="button danger" type="submit">Log out</button>
        </form>
        <form class="logout-form" method="post" action="${escapeHtml(o.logoutAction)}">
          <input type="hidden" name="all" value="true">
          <button class="button small" type="submit" title="End every login of this account, in every browser">Log out everywhere</button>
        </form>
      </div>
    </section>

    <section class="card" id="token-card" aria-labelledby="token-title"${
      o.refresh ? ` data-refresh-url="${escapeHtml(o.refresh.action)}" data-refresh-before="${o.refresh.beforeSeconds}"` : ''
    }>
      <div class="card-head">
        <h2 id="token-title">Token <span class="badge">${escapeHtml(o.tokenKind)}</span></h2>
        <span class="card-actions">${o.refresh ? '<button class="button small" type="button" id="renew">Renew now</button> ' : ''}<button class="button small" type="button" data-copy="token">Copy</button></span>
      </div>
      <label class="sr-only" for="token">Your API key (${escapeHtml(o.tokenKind)})</label>
      <textarea id="token" class="token" readonly rows="5" spellcheck="false" autocomplete="off">${escapeHtml(o.token)}</textarea>
      <p class="meta">
        <span id="expires-in" class="expiry${exp !== undefined && exp <= nowSeconds ? ' expired' : ''}" data-exp="${
          exp === undefined ? '' : exp
        }">${escapeHtml(expiryText(exp, nowSeconds))}</span>${
          expIso ? ` <span class="muted">· until <time datetime="${escapeHtml(expIso)}">${escapeHtml(expIso)}</time></span>` : ''
        }${iatIso ? ` <span class="muted">· issued <time datetime="${escapeHtml(iatIso)}">${escapeHtml(iatIso)}</time></span>` : ''}
        <span class="copy-note" data-copy-note="token" role="status" aria-live="polite"></span>
      </p>${o.refresh ? `
      <p class="meta"><span id="renew-status" role="status" aria-live="polite">Renewed automatically ${o.refresh.beforeSeconds} s before it expires.</span></p>` : ''}
    </section>

    <section class="card live" id="live" aria-labelledby="live-title" data-protected-url="${escapeHtml(protectedPath(o.protectedUrl))}">
      <div class="card-head">
        <h2 id="live-title">Live check <span class="muted small">GET ${escapeHtml(protectedPath(o.protectedUrl))} every second</span></h2>
        <span id="live-status" class="status pending" role="status">Checking…</span>
      </div>
      <div class="live-grid">
        <div class="live-who">
          <span id="live-avatar" class="avatar large avatar-none" aria-hidden="true">?</span>
          <img id="live-picture-img" class="avatar large" alt="" hidden>
          <div class="live-fields">
            <p class="logged-in">
              <input type="checkbox" id="logged-in" disabled>
              <label for="logged-in" id="logged-in-text">Checking…</label>
            </p>
            <dl class="facts compact">
              <div><dt>E-mail</dt><dd id="live-email">—</dd></div>
              <div><dt>Name</dt><dd id="live-name">—</dd></div>
              <div><dt>Picture</dt><dd id="live-picture" class="break">—</dd></div>
              <div><dt>Last check</dt><dd id="live-checked">—</dd></div>
            </dl>
            <p id="live-error" class="live-error" hidden></p>
            <p id="live-relogin" hidden><a class="button primary small" href="/login">Log in</a></p>
          </div>
        </div>
        <div class="live-raw-wrap">
          <h3>Response</h3>
          <pre id="live-raw" class="code" aria-live="off">(waiting for the first answer)</pre>
        </div>
      </div>
    </section>

    <section class="card" id="sessions" aria-labelledby="sessions-title" data-sessions-url="${escapeHtml(o.sessionsPath ?? '/sessions')}" data-home-url="${escapeHtml(o.homePath ?? '/')}">
      <div class="card-head">
        <h2 id="sessions-title">Your sessions</h2>
        <span id="sessions-status" class="muted small" role="status" aria-live="polite">Loading…</span>
      </div>
      <div class="table-wrap">
        <table class="sessions">
          <thead><tr><th>Device</th><th>Address</th><th>Signed in</th><th>Last used</th><th><span class="sr-only">Action</span></th></tr></thead>
          <tbody id="sessions-body"></tbody>
        </table>
      </div>
    </section>

    <section class="card" aria-labelledby="curl-title">
      <div class="card-head">
        <h2 id="curl-title">Try it with curl</h2>
        <button class="button small" type="button" data-copy="curl">Copy</button>
      </div>
      <pre id="curl" class="code wrap">${escapeHtml(curl)}</pre>
      <p class="meta"><span class="copy-note" data-copy-note="curl" role="status" aria-live="polite"></span></p>
    </section>

    <section class="decoded" aria-label="Decoded token">
      <div class="card">
        <h2>Header</h2>
        <pre id="token-header" class="code">${escapeHtml(prettyJson(o.header))}</pre>
      </div>
      <div class="card">
        <h2>Claims</h2>
        <pre id="token-claims" class="code">${escapeHtml(prettyJson(o.claims))}</pre>
      </div>
    </section>`;

  return layout({ title: 'Your API key', body, scripts: ['key.js'] });
}
