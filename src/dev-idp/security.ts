import type { ServerResponse } from 'node:http';
import type { DevIdpClient } from './types.js';

/** Origins of the URLs a client may be sent back to (redirect and post-logout URIs). */
export function clientOrigins(clients: readonly DevIdpClient[]): string[] {
  const origins = new Set<string>();
  for (const client of clients) {
    for (const uri of [...client.redirectUris, ...client.postLogoutRedirectUris]) {
      const url = URL.parse(uri);
      if (url && (url.protocol === 'http:' || url.protocol === 'https:')) origins.add(url.origin);
    }
  }
  return [...origins];
}

/**
 * The Content-Security-Policy of every HTML page of the IdP. No script at all; styles only from the IdP's own
 * stylesheet. `form-action` allows the IdP itself and the given origins: Chrome applies `form-action` to the redirects
 * that follow a form post too, and the login, consent and logout forms end in a redirect to the client.
 */
export function contentSecurityPolicy(formTargets: readonly string[]): string {
  const formAction = ["'self'", ...formTargets].join(' ');
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** Headers of every response of the IdP that carries HTML. */
export function htmlSecurityHeaders(formTargets: readonly string[]): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(formTargets),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cache-Control': 'no-store',
  };
}

/** Sends a complete HTML page from plain node:http code, unless the response has already started. */
export function sendHtml(res: ServerResponse, status: number, html: string, formTargets: readonly string[]): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = Buffer.from(html, 'utf8');
  res.statusCode = status;
  for (const [name, value] of Object.entries(htmlSecurityHeaders(formTargets))) res.setHeader(name, value);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', String(body.length));
  res.end(body);
}

/** The IdP's only stylesheet, served from `<mount>/assets/idp.css`. */
export const IDP_CSS = `
:root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--fg:#1d2330;--muted:#5c6473;--accent:#3b5bdb;--err:#c92a2a;--line:#d8dbe2}
@media (prefers-color-scheme:dark){:root{--bg:#15171c;--card:#1f232b;--fg:#e6e8ee;--muted:#9aa2b1;--accent:#748ffc;--err:#ff8787;--line:#343a46}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:28rem;margin:3rem auto;padding:2rem;background:var(--card);border:1px solid var(--line);border-radius:12px}
h1{font-size:1.35rem;margin:0 0 1rem}
p{margin:.5rem 0}
.muted{color:var(--muted);font-size:.9rem}
.error{color:var(--err);font-weight:600}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input[type=email],input[type=password],input[type=text]{width:100%;padding:.55rem .7rem;font:inherit;color:inherit;background:transparent;border:1px solid var(--line);border-radius:6px}
.actions{display:flex;gap:.5rem;margin-top:1.25rem}
button{font:inherit;font-weight:600;padding:.55rem 1.1rem;border-radius:6px;border:1px solid var(--accent);cursor:pointer}
button.primary{background:var(--accent);color:#fff}
button.secondary{background:transparent;color:var(--accent)}
table{width:100%;border-collapse:collapse;margin-top:.5rem;font-size:.9rem}
th,td{text-align:left;padding:.3rem .4rem;border-bottom:1px solid var(--line)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
ul{padding-left:1.2rem}
.badge{display:inline-block;font-size:.75rem;padding:.1rem .5rem;border-radius:999px;border:1px solid var(--line);color:var(--muted)}
`.trim();
