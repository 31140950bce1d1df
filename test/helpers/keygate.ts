import { loadConfig, type KeygateConfig } from '../../src/config/index.js';
import { startKeygate, type RunningKeygate, type StartOptions } from '../../src/server.js';
import { Agent, decode, findForm } from './agent.js';
import { freePort } from './net.js';

export interface TestKeygate extends RunningKeygate {
  config: KeygateConfig;
  base: URL;
}

/** Keygate in development mode (embedded oidc-provider on the same server) on a free loopback port. */
export async function startDevKeygate(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestKeygate> {
  const port = await freePort();
  const config = loadConfig({ HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'silent', ...env });
  const running = await startKeygate(config, { logger: false, ...options });
  return { ...running, config, base: new URL(`http://127.0.0.1:${port}`) };
}

/**
 * Follows `start` (a Keygate `/login` or the provider's authorization URL) through the real provider's pages as a
 * browser would: login form, consent, back to Keygate's `/callback` and wherever it leads. Returns the last page.
 */
export async function throughProvider(agent: Agent, start: URL, email: string, password: string): Promise<{ response: Response; url: URL; html: string }> {
  let { response, url } = await agent.follow(start);
  let html = await response.text();
  // The provider may show its login form, its consent form, both, or neither (a live provider session).
  for (let step = 0; step < 3 && url.pathname.includes('/interaction/'); step++) {
    if (html.includes('name="password"')) {
      const login = findForm(html, '/login', url);
      ({ response, url } = await agent.submit(login.action, { ...login.fields, email, password }));
    } else if (html.includes('/confirm')) {
      const consent = findForm(html, '/confirm', url);
      ({ response, url } = await agent.submit(consent.action, consent.fields));
    } else break;
    html = await response.text();
  }
  return { response, url, html };
}

/**
 * Logs in through the real provider's pages as a browser would: /login → provider login form → consent →
 * /callback → /key. Returns the key page's HTML and the API token shown in it.
 */
export async function loginAs(agent: Agent, base: URL, email: string, password: string, path = '/login'): Promise<{ html: string; token: string; keyUrl: URL }> {
  const { response, url, html } = await throughProvider(agent, new URL(path, base), email, password);
  if (url.pathname !== '/key' || response.status !== 200) {
    throw new Error(`login ended at ${url.href} with ${response.status}: ${textOf(html).slice(0, 800)}`);
  }
  const token = /<textarea[^>]*id="token"[^>]*>([^<]*)<\/textarea>/.exec(html)?.[1];
  if (!token) throw new Error('no token on the key page');
  return { html, token: decode(token).trim(), keyUrl: url };
}

/** The visible text of a page, for readable failures. */
export function textOf(html: string): string {
  const main = /<main[\s\S]*<\/main>/.exec(html)?.[0] ?? html;
  return main.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
}

/** The status `GET /protected` answers for the token. */
export async function protectedStatus(base: URL, token: string): Promise<number> {
  const response = await fetch(new URL('/protected', base), { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}
