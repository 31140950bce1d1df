import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startDevKeygate, type TestKeygate } from '../helpers/keygate.js';

/** The little of the DOM these page functions use (they run in the browser; the project compiles without lib.dom). */
declare const document: { getElementById(id: string): { textContent: string | null; checked?: boolean } | null };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

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
      await page.goto(new URL('/login', renewing.base).href);
      await signInAtProvider(page, 'alice@example.com', 'alice', renewing.base.origin);
      await page.waitForFunction(() => /^Renewed at/.test(document.getElementById('renew-status')?.textContent ?? ''), undefined, { timeout: 5000 });
      const token = (await page.inputValue('#token')).trim();
      const [session] = await renewing.store.listBySubject('dev|alice@example.com');
      assert.equal(session?.apiToken, token, 'the page shows the token the server now holds');
      await page.waitForFunction(() => document.getElementById('logged-in')?.checked === true, undefined, { timeout: 5000 });

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
