import { escapeHtml } from './html.js';
import { layout } from './layout.js';

export interface ErrorPageOptions {
  status: number;
  code: string;
  description: string;
  /** Debug mode only: technical detail, shown in a <pre>. */
  detail?: string;
  /** Optional heading; by default derived from the status. */
  title?: string;
}

function defaultTitle(status: number): string {
  if (status === 404) return 'Page not found';
  if (status >= 400 && status < 500) return 'Login failed';
  return 'Something went wrong';
}

export function renderErrorPage(o: ErrorPageOptions): string {
  const title = o.title ?? defaultTitle(o.status);
  const detail =
    o.detail === undefined || o.detail === ''
      ? ''
      : `
      <details class="detail" open>
        <summary>Detail (debug mode)</summary>
        <pre>${escapeHtml(o.detail)}</pre>
      </details>`;
  const body = `
    <section class="card error-card" role="alert">
      <h1>${escapeHtml(title)}</h1>
      <p class="lead">${escapeHtml(o.description)}</p>
      <dl class="facts">
        <div><dt>Status</dt><dd><code>${escapeHtml(o.status)}</code></dd></div>
        <div><dt>Error</dt><dd><code>${escapeHtml(o.code)}</code></dd></div>
      </dl>${detail}
      <p class="actions">
        <a class="button primary" href="/login">Log in</a>
        <a class="button" href="/">Back to start</a>
      </p>
    </section>`;
  return layout({ title, body });
}
