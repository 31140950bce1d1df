import type { KoaContextWithOIDC } from 'oidc-provider';
import { errorPage, logoutPage } from './pages.js';
import { clientOrigins, htmlSecurityHeaders } from './security.js';
import type { DevIdpClient } from './types.js';
import { escapeHtml } from '../pages/html.js';

type Next = () => Promise<unknown>;

/** oidc-provider's auto-submitting "form_post" page (used by response_mode=form_post and by logout without a session). */
const FORM_POST_MARKER = '<title>Submitting Callback</title>';

/** Makes oidc-provider's built-in form_post page work without script: drop the script, show the button. */
function withoutScript(html: string): string {
  return html
    .replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '')
    .replace(/<\/?noscript>/gi, '')
    .replace("Your browser does not support JavaScript or you've disabled it.<br/>", '');
}

/**
 * A Koa middleware for the provider: every HTML answer gets the IdP's security headers; pages oidc-provider builds
 * with an inline script are rewritten so that no script is ever sent; an unmatched route gets an HTML 404.
 */
export function securityMiddleware(mountPath: string, clients: readonly DevIdpClient[]) {
  const allOrigins = clientOrigins(clients);
  const originsByClient = new Map(clients.map((c) => [c.clientId, clientOrigins([c])]));

  return async function devIdpSecurity(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
    await next();

    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');

    if (ctx.status === 404 && ctx.body == null) {
      ctx.status = 404;
      ctx.type = 'html';
      ctx.body = errorPage(mountPath, 'Not found', 'The development identity provider has no such page.');
    }
    if (!ctx.response.is('html')) return;

    const clientId = ctx.oidc?.client?.clientId;
    const formTargets = (clientId && originsByClient.get(clientId)) || allOrigins;

    if (typeof ctx.body === 'string' && ctx.body.includes(FORM_POST_MARKER)) {
      const secret = ctx.oidc?.route === 'end_session' ? ctx.oidc.session?.state?.['secret'] : undefined;
      if (typeof secret === 'string') {
        // Logout without an IdP session: a visible confirmation instead of the auto-submitting form.
        const action = ctx.oidc.urlFor('end_session_confirm');
        const form = `<form id="op.logoutForm" method="post" action="${escapeHtml(action)}">`
          + `<input type="hidden" name="xsrf" value="${escapeHtml(secret)}"></form>`;
        ctx.body = logoutPage(mountPath, form, clientId, false);
      } else {
        ctx.body = withoutScript(ctx.body);
      }
    }

    for (const [name, value] of Object.entries(htmlSecurityHeaders(formTargets))) ctx.set(name, value);
  };
}
