import { escapeHtml } from './html.js';
import { layout } from './layout.js';

export function renderLogoutConfirmPage(o: { action: string }): string {
  const body = `
    <section class="card narrow">
      <h1>Log out of Keygate?</h1>
      <p class="lead">Your API key stops working at once, on every Keygate instance, even before it expires.</p>
      <form class="actions" method="post" action="${escapeHtml(o.action)}">
        <button class="button danger" type="submit">Log out</button>
        <a class="button" href="/key">Cancel</a>
      </form>
    </section>`;
  return layout({ title: 'Log out', body });
}
