import { escapeHtml } from './html.js';
import { layout } from './layout.js';

export interface LoginPageOptions {
  /** e.g. 'Keygate development provider' or 'example.eu.auth0.com'. */
  providerLabel: string;
  /** Shown in dev mode so people can log in. */
  devUsers?: { email: string; password: string }[];
  /** When set, the Log in link is /login?returnTo=<urlencoded>. */
  returnTo?: string;
}

export function loginHref(returnTo?: string): string {
  return returnTo ? `/login?returnTo=${encodeURIComponent(returnTo)}` : '/login';
}

export function renderLoginPage(o: LoginPageOptions): string {
  const users = o.devUsers ?? [];
  const devUsers =
    users.length === 0
      ? ''
      : `
    <section class="card" aria-labelledby="demo-users-title">
      <h2 id="demo-users-title">Demo users</h2>
      <p class="muted">Development mode: the embedded provider knows these accounts. Use one of them on the provider's login form.</p>
      <div class="table-wrap">
        <table class="demo-users">
          <thead><tr><th scope="col">E-mail</th><th scope="col">Password</th></tr></thead>
          <tbody>
${users
  .map(
    (u) =>
      `            <tr><td><code>${escapeHtml(u.email)}</code></td><td><code>${escapeHtml(u.password)}</code></td></tr>`,
  )
  .join('\n')}
          </tbody>
        </table>
      </div>
    </section>`;

  const body = `
    <section class="card hero">
      <h1>Get your API key</h1>
      <p class="lead">Keygate secures an HTTP API with OpenID Connect. Log in and you get a signed token — your API key —
        that you can send as <code>Authorization: Bearer &lt;token&gt;</code> to the protected API.</p>
      <ul class="features">
        <li>See the token, its header and claims, and when it expires.</li>
        <li>Watch it work live against <code>GET /protected</code>, or copy a ready <code>curl</code> line.</li>
        <li>Log out and the token stops working at once, even before it expires.</li>
      </ul>
      <p class="actions"><a class="button primary" href="${escapeHtml(loginHref(o.returnTo))}">Log in</a></p>
      <p class="muted small">You will sign in with <strong>${escapeHtml(o.providerLabel)}</strong>.</p>
    </section>${devUsers}`;

  return layout({ title: 'Log in', body });
}
