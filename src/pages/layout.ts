import { escapeHtml, staticHref } from './html.js';

export interface LayoutOptions {
  title: string;
  /** Trusted HTML built by a page function (every interpolated value already escaped). */
  body: string;
  /** Names of files under /static/ to load as ES modules (deferred by nature; they import their siblings by relative URL). */
  scripts?: string[];
}

/** Icon used in the header (inline SVG markup: no inline style, no script). */
const KEY_ICON =
  '<svg class="brand-icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">' +
  '<circle cx="8" cy="12" r="4.5" fill="none" stroke="currentColor" stroke-width="2"/>' +
  '<path d="M12.5 12H21M17.5 12v3.5M20.5 12v2.5" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>' +
  '</svg>';

/** Wraps page content in a complete HTML document that works under Keygate's strict CSP. */
export function layout(opts: LayoutOptions): string {
  const scripts = (opts.scripts ?? [])
    .map((name) => `  <script type="module" src="${escapeHtml(staticHref(name))}"></script>\n`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <meta name="referrer" content="no-referrer">
  <meta name="robots" content="noindex, nofollow">
  <title>${escapeHtml(opts.title)} · Keygate</title>
  <link rel="icon" href="${staticHref('favicon.svg')}" type="image/svg+xml">
  <link rel="stylesheet" href="${staticHref('keygate.css')}">
${scripts}</head>
<body>
  <header class="site-header">
    <a class="brand" href="/">${KEY_ICON}<span>Keygate</span></a>
  </header>
  <main class="page">
${opts.body}
  </main>
  <footer class="site-footer">Keygate secures your HTTP API with OpenID Connect.</footer>
</body>
</html>
`;
}
