import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startDevKeygate, type TestKeygate } from '../helpers/keygate.js';

/** The little of the DOM these page functions use (they run in the browser; the project compiles without lib.dom). */
declare const document: { getElementById(id: string): { textContent: string | null; checked?: boolean } | null };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Every script of the key page under public/ as the browser fetches it: /static/key.js, /static/key/live.js, … (admin.js is the /admin page's). */
const MODULE_URLS = readdirSync(new URL('../../public/', import.meta.url), { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.js') && name !== 'admin.js')
  .map((name) => `/static/${name.split('\\').join('/')}`)
  .sort();

/**
 * Runs in the page before its own scripts (injected by the browser's debugging protocol, so the CSP does not
 * apply to it): keeps the browser's own report of every CSP violation, which console text may not carry.
 */
const RECORD_CSP_VIOLATIONS = `document.addEventListener('securitypolicyviolation', (e) => {
  (window.__cspViolations ??= []).push(e.violatedDirective + ' ' + e.blockedURI);
});`;

describe('the key page in real headless Chromium', () => {
  let kg: TestKeygate;
  let browser: Browser;
  let profileDir: string;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium is required at ${CHROMIUM} (apt-get install chromium; .ci/run does it)`);
    kg = await startDevKeygate();
    profileDir = mkdtempSync(join(tmpdir(), 'keygate-browser-test-'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await kg?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  /** Fills the provider's login form, allows the consent when asked, and waits for the key page. */
  async function signInAtProvider(page: Page, email: string, password: string, origin = kg.base.origin): Promise<void> {
    await page.waitForURL(/\/idp\/interaction\//);
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.getByRole('button', { name: 'Log in' }).click();
    if (await page.getByRole('button', { name: 'Allow' }).isVisible().catch(() => false)) {
      await page.getByRole('button', { name: 'Allow' }).click();
    }
    await page.waitForURL(`${origin}/key`);
  }

  it('logs in as alice, watches the live panel, logs out, and the token is rejected', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    const external: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    page.on('pageerror', (error) => violations.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      if (!request.url().startsWith(kg.base.origin) && !request.url().startsWith('data:')) external.push(request.url());
    });

    await page.goto(kg.base.href);
    await page.getByRole('link', { name: 'Log in' }).first().click();
    await signInAtProvider(page, 'alice@example.com', 'alice');

    // The live panel polls /protected every second and shows alice.
    await page.waitForFunction(() => document.getElementById('live-email')?.textContent === 'alice@example.com', undefined, { timeout: 5000 });
    assert.equal(await page.isChecked('#logged-in'), true);
    assert.match((await page.textContent('#live-raw')) ?? '', /"email": "alice@example.com"/);
    assert.match((await page.textContent('#expires-in')) ?? '', /expires in \d+:\d\d/);
    const token = (await page.inputValue('#token')).trim();
    assert.equal(token.split('.').length, 3);
    await page.screenshot({ path: join(profileDir, 'key.png') });

    // Log out with the page's own button (a same-origin form post under Referrer-Policy: no-referrer).
    await page.getByRole('button', { name: 'Log out' }).first().click();
    await page.waitForURL(/\/idp\/session\/end/);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${kg.base.origin}/`);

    const answer = await fetch(new URL('/protected', kg.base), { headers: { authorization: `Bearer ${token}` } });
    assert.equal(answer.status, 401);
    assert.equal(((await answer.json()) as { error: string }).error, 'invalid_token');

    // The key page is gone; the login page is back.
    await page.goto(new URL('/key', kg.base).href);
    assert.equal(new URL(page.url()).pathname, '/');
    assert.deepEqual(violations, [], 'no CSP violations or script errors');
    assert.deepEqual(external, [], 'nothing loaded from outside the server');
    await context.close();
  });

  it('loads the key page as ES modules under the strict CSP, with no violation, and the page keeps updating', async () => {
    const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await context.newPage();
    await page.addInitScript(RECORD_CSP_VIOLATIONS);
    const errors: string[] = [];
    page.on('console', (message) => {
      // The key page and its modules; the provider's own pages (and their favicon) are not under test here.
      const where = message.location().url ? new URL(message.location().url) : undefined;
      if (message.type() === 'error' && (!where || /^\/(?:key$|static\/)/.test(where.pathname))) errors.push(`${message.text()} (${where?.pathname})`);
    });
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    const scripts = new Map<string, string>();
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (url.pathname.endsWith('.js')) scripts.set(url.pathname, `${response.status()} ${response.headers()['content-type']}`);
    });

    await page.goto(new URL('/login', kg.base).href);
    await signInAtProvider(page, 'bob@example.com', 'bob');
    await page.waitForFunction(() => document.getElementById('live-email')?.textContent === 'bob@example.com', undefined, { timeout: 5000 });

    // The entry module and every module it imports came from this server, as JavaScript.
    assert.deepEqual([...scripts.keys()].sort(), MODULE_URLS);
    for (const [url, answer] of scripts) assert.equal(answer, '200 text/javascript; charset=utf-8', url);

    // Each module does its part. The live avatar comes from format.js, the very file the server rendered the page
    // head's avatar with, so for the same profile both show the same letters in the same colour.
    const rendered = page.locator('.identity .avatar');
    assert.equal(await page.textContent('#live-avatar'), await rendered.textContent());
    assert.notEqual(await page.textContent('#live-avatar'), '?');
    const colour = /avatar-c[0-5]/.exec((await rendered.getAttribute('class')) ?? '')?.[0];
    assert.ok(colour && ((await page.getAttribute('#live-avatar', 'class')) ?? '').split(' ').includes(colour));
    // The countdown ticks, times are shown in local time, Copy copies.
    const first = await page.textContent('#expires-in');
    await page.waitForFunction((before) => document.getElementById('expires-in')?.textContent !== before, first, { timeout: 3000 });
    assert.match((await page.textContent('#expires-in')) ?? '', /^expires in \d+:\d\d$/);
    assert.match((await page.getAttribute('time', 'title')) ?? '', /^\d{4}-\d\d-\d\dT/);
    await page.locator('button[data-copy="token"]').click();
    await page.waitForFunction(() => document.getElementById('token-card')?.textContent?.includes('Copied.') === true, undefined, { timeout: 3000 });
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), (await page.inputValue('#token')).trim());

    assert.deepEqual(await page.evaluate('window.__cspViolations ?? []'), [], 'no CSP violation reported by the browser');
    assert.deepEqual(errors, [], 'no console errors or script errors');
    // The probe itself works: an image from another origin is refused and reported.
    await page.evaluate(`new Promise((resolve) => {
      document.addEventListener('securitypolicyviolation', resolve, { once: true });
      const img = document.createElement('img');
      img.src = 'http://127.0.0.1:9/blocked.png';
      document.body.append(img);
    })`);
    assert.deepEqual(await page.evaluate('window.__cspViolations'), ['img-src http://127.0.0.1:9/blocked.png']);
    await context.close();
  });

  it('the live panel notices a logout made elsewhere within a few seconds', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(new URL('/login', kg.base).href);
    await signInAtProvider(page, 'bob@example.com', 'bob');
    await page.waitForFunction(() => document.getElementById('logged-in')?.checked === true, undefined, { timeout: 5000 });
    const token = (await page.inputValue('#token')).trim();
    const logout = await fetch(new URL('/logout', kg.base), { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(logout.status, 200);
    await page.waitForFunction(() => document.getElementById('logged-in')?.checked === false, undefined, { timeout: 5000 });
    assert.match((await page.textContent('#live-raw')) ?? '', /invalid_token/);
    await context.close();
  });

  it('two tabs start a login; the first tab finishes first, then the second: both reach the key page', async () => {
    const context = await browser.newContext();
    try {
      const first = await context.newPage();
      const second = await context.newPage();
      await first.goto(new URL('/login', kg.base).href);
      await second.goto(new URL('/login', kg.base).href);
      await signInAtProvider(first, 'alice@example.com', 'alice');
      await signInAtProvider(second, 'alice@example.com', 'alice');
      assert.equal((await first.inputValue('#token')).trim().split('.').length, 3);
      assert.equal((await context.cookies(kg.base.href)).filter((c) => c.name.startsWith('keygate_tx_')).length, 0, 'both transactions used up');
    } finally {
      await context.close();
    }
  });

  it('with REFRESH the page renews its token by itself, keeps checking with it, and logs out everywhere', async () => {
    // Renew an hour ahead of expiry: with one-hour tokens the page renews as soon as it loads.
    const renewing = await startDevKeygate({ REFRESH: 'true', REFRESH_BEFORE_SECONDS: '3600' });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const violations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
      });
      page.on('pageerror', (error) => violations.push(`page error: ${error.message}`));
      // Every state the live panel shows, from its first paint on.
      await page.addInitScript(`new MutationObserver((changes) => {
        for (const change of changes) if (change.target.id === 'live') (window.__liveStates ??= []).push(change.target.getAttribute('data-state'));
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });`);
      // The page's first check of /protected is held back (an injected network delay) until the renewal has
      // replaced the token it carries: the old token is revoked by then and the server answers 401.
      let held = false;
      await page.route('**/protected', async (route) => {
        if (!held) {
          held = true;
          // A renewal that never comes fails the test below; the request goes on either way.
          await page.waitForFunction(() => /^Renewed at/.test(document.getElementById('renew-status')?.textContent ?? ''), undefined, { timeout: 5000 }).catch(() => undefined);
        }
        await route.continue();
      });
      await page.goto(new URL('/login', renewing.base).href);
      await signInAtProvider(page, 'alice@example.com', 'alice', renewing.base.origin);
      await page.waitForFunction(() => /^Renewed at/.test(document.getElementById('renew-status')?.textContent ?? ''), undefined, { timeout: 5000 });
      const token = (await page.inputValue('#token')).trim();
      const [session] = await renewing.store.listBySubject('dev|alice@example.com');
      assert.equal(session?.apiToken, token, 'the page shows the token the server now holds');
      await page.waitForFunction(() => document.getElementById('logged-in')?.checked === true, undefined, { timeout: 5000 });
      // The check that was out with the old token when the renewal revoked it did not flash "Not logged in".
      assert.ok(held);
      assert.deepEqual([...new Set((await page.evaluate('window.__liveStates')) as string[])], ['ok'], 'the live panel stayed logged in');

      await page.getByRole('button', { name: 'Log out everywhere' }).click();
      await page.waitForURL(/\/idp\/session\/end/);
      const answer = await fetch(new URL('/protected', renewing.base), { headers: { authorization: `Bearer ${token}` } });
      assert.equal(answer.status, 401);
      assert.deepEqual(violations, [], 'no CSP violations or script errors');
    } finally {
      await context.close();
      await renewing.close();
    }
  });
});
