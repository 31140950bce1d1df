import { escapeHtml } from '../pages/html.js';
import type { DevUser } from '../config/types.js';

/** Everything the IdP renders goes through this layout: one local stylesheet, no script, nothing external. */
export function layout(mountPath: string, title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${escapeHtml(`${mountPath}/assets/idp.css`)}">
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export const LOGIN_TITLE = 'Sign in to the Keygate development provider';

export interface LoginPageInput {
  mountPath: string;
  uid: string;
  clientId: string;
  users: readonly DevUser[];
  email?: string;
  error?: string;
}

export function loginPage(input: LoginPageInput): string {
  const base = `${input.mountPath}/interaction/${encodeURIComponent(input.uid)}`;
  const rows = input.users
    .map((u) => `<tr><td><code>${escapeHtml(u.email)}</code></td><td><code>${escapeHtml(u.password)}</code></td><td>${escapeHtml(u.name)}</td></tr>`)
    .join('\n');
  const error = input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : '';
  return layout(input.mountPath, LOGIN_TITLE, `<h1>${escapeHtml(LOGIN_TITLE)}</h1>
<p class="muted">Application <code>${escapeHtml(input.clientId)}</code> asks you to sign in. <span class="badge">development only</span></p>
${error}
<form method="post" action="${escapeHtml(`${base}/login`)}" autocomplete="off">
<label for="email">E-mail</label>
<input id="email" name="email" type="email" required autofocus value="${escapeHtml(input.email ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" required>
<div class="actions"><button class="primary" type="submit">Log in</button></div>
</form>
<form method="post" action="${escapeHtml(`${base}/abort`)}"><div class="actions"><button class="secondary" type="submit">Cancel</button></div></form>
<h2 class="muted">Demo users</h2>
<table><thead><tr><th>E-mail</th><th>Password</th><th>Name</th></tr></thead>
<tbody>
${rows}
</tbody></table>`);
}

export interface ConsentPageInput {
  mountPath: string;
  uid: string;
  clientId: string;
  accountEmail: string;
  scopes: readonly string[];
  claims: readonly string[];
  resources: ReadonlyArray<{ resource: string; scopes: readonly string[] }>;
}

function list(items: readonly string[]): string {
  return `<ul>${items.map((item) => `<li><code>${escapeHtml(item)}</code></li>`).join('')}</ul>`;
}

export function consentPage(input: ConsentPageInput): string {
  const base = `${input.mountPath}/interaction/${encodeURIComponent(input.uid)}`;
  const sections: string[] = [];
  if (input.scopes.length) sections.push(`<p>Scopes:</p>${list(input.scopes)}`);
  if (input.claims.length) sections.push(`<p>Claims:</p>${list(input.claims)}`);
  for (const { resource, scopes } of input.resources) {
    sections.push(`<p>Access to the API <code>${escapeHtml(resource)}</code>${scopes.length ? ' with scopes:' : ''}</p>${scopes.length ? list(scopes) : ''}`);
  }
  if (!sections.length) sections.push('<p>Confirm that you want to continue to this application.</p>');
  const title = 'Allow access';
  return layout(input.mountPath, title, `<h1>${escapeHtml(title)}</h1>
<p>Application <code>${escapeHtml(input.clientId)}</code> asks for access on behalf of <strong>${escapeHtml(input.accountEmail)}</strong>.</p>
${sections.join('\n')}
<form method="post" action="${escapeHtml(`${base}/confirm`)}"><div class="actions"><button class="primary" type="submit">Allow</button></div></form>
<form method="post" action="${escapeHtml(`${base}/abort`)}"><div class="actions"><button class="secondary" type="submit">Deny</button></div></form>`);
}

export function errorPage(mountPath: string, title: string, message: string, details: Record<string, string | undefined> = {}): string {
  const rows = Object.entries(details)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== '')
    .map(([key, value]) => `<tr><th>${escapeHtml(key)}</th><td><code>${escapeHtml(value)}</code></td></tr>`)
    .join('\n');
  return layout(mountPath, title, `<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
${rows ? `<table><tbody>${rows}</tbody></table>` : ''}`);
}

/** The RP-initiated logout confirmation: oidc-provider's form (hidden xsrf input) plus visible buttons, no script. */
export function logoutPage(mountPath: string, form: string, clientId: string | undefined, signedIn: boolean): string {
  const buttons = '<div class="actions"><button class="primary" type="submit" name="logout" value="yes">Log out</button>'
    + (signedIn ? '<button class="secondary" type="submit">Stay signed in</button>' : '')
    + '</div>';
  const closing = form.lastIndexOf('</form>');
  const withButtons = closing === -1 ? `${form}${buttons}` : `${form.slice(0, closing)}${buttons}${form.slice(closing)}`;
  const who = clientId ? ` from <code>${escapeHtml(clientId)}</code>` : '';
  const text = signedIn
    ? `<p>Do you want to log out${who} of the Keygate development provider?</p>`
    : '<p>You are not signed in to the Keygate development provider. Confirm to finish logging out.</p>';
  return layout(mountPath, 'Log out', `<h1>Log out</h1>\n${text}\n${withButtons}`);
}

export function postLogoutPage(mountPath: string): string {
  return layout(mountPath, 'Logged out', `<h1>Logged out</h1>
<p>You have been logged out of the Keygate development provider. You can close this window.</p>`);
}
