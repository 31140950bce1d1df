import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startDevKeygate, type TestKeygate } from '../helpers/keygate.js';

/** The little of the DOM these page functions use (they run in the browser; the project compiles without lib.dom). */
declare const document: {
  getElementById(id: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
};

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RECORD_CSP_VIOLATIONS = `document.addEventListener('securitypolicyviolation', (e) => {
  (window.__cspViolations ??= []).push(e.violatedDirective + ' ' + e.blockedURI);
});`;

describe('the sessions panel and the admin page in real headless Chromium', () => {
  let kg: TestKeygate;
  let browser: Browser;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium is required at ${CHROMIUM}`);
    kg = await startDevKeygate({ ADMIN_USERS: 'alice@example.com' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await kg?.close();
  });

  /** A fresh browser context logged in as `email` through the provider's pages, on the key page; errors are collected. */
  async function loggedIn(email: string, password: string, errors: string[], userAgent: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ userAgent });
    const page = await context.newPage();
    await page.addInitScript(RECORD_CSP_VIOLATIONS);
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      const where = message.location().url ? new URL(message.location().url) : undefined;
      if (message.type() === 'error' && where && /^\/(?:key|admin|static\/)/.test(where.pathname)) errors.push(message.text());
    });
    await page.goto(new URL('/login', kg.base).href);
    await page.waitForURL(/\/idp\/interaction\//);
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.getByRole('button', { name: 'Log in' }).click();
    if (await page.getByRole('button', { name: 'Allow' }).isVisible().catch(() => false)) await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${kg.base.origin}/key`);
    return { context, page };
  }

  const violations = (page: Page) => page.evaluate('window.__cspViolations ?? []') as Promise<string[]>;

  it('ending a session from one browser turns the other browser\'s live panel to "Not logged in"; ending this device\'s logs the page out', async () => {
    const errors: string[] = [];
    const laptop = await loggedIn('bob@example.com', 'bob', errors, 'LaptopBrowser/1');
    const phone = await loggedIn('bob@example.com', 'bob', errors, 'PhoneBrowser/1');
    const { page } = laptop;

    // The panel lists both logins, this device marked.
    await page.waitForFunction(() => document.querySelectorAll('#sessions-body tr').length === 2, undefined, { timeout: 8000 });
    const current = page.locator('#sessions-body tr.current');
    assert.match((await current.textContent()) ?? '', /LaptopBrowser\/1.*this device/);
    await phone.page.waitForFunction(() => document.getElementById('logged-in-text')?.textContent === 'Logged in', undefined, { timeout: 5000 });

    // End the phone's session from the laptop.
    await page.locator('#sessions-body tr', { hasText: 'PhoneBrowser/1' }).getByRole('button', { name: 'End' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#sessions-body tr').length === 1, undefined, { timeout: 5000 });
    await phone.page.waitForFunction(() => document.getElementById('logged-in-text')?.textContent === 'Not logged in', undefined, { timeout: 5000 });
    await phone.page.waitForFunction(() => document.getElementById('sessions-status')?.textContent === 'Not logged in', undefined, { timeout: 8000 });

    // End this device's own session: the page logs out (back to the login page).
    await current.getByRole('button', { name: 'End' }).click();
    await page.waitForURL(`${kg.base.origin}/`);
    await page.goto(new URL('/key', kg.base).href);
    assert.equal(new URL(page.url()).pathname, '/');

    assert.deepEqual(await violations(phone.page), []);
    assert.deepEqual(errors.filter((e) => !/401|Unauthorized/.test(e)), [], 'no script errors (401 answers are expected console noise)');
    await laptop.context.close();
    await phone.context.close();
  });

  it('the admin page searches a user, ends one session, ends all, and asks before ending the admin\'s own', async () => {
    const errors: string[] = [];
    const admin = await loggedIn('alice@example.com', 'alice', errors, 'AdminBrowser/1');
    const carolA = await loggedIn('bob@example.com', 'bob', errors, 'BobOne/1');
    const carolB = await loggedIn('bob@example.com', 'bob', errors, 'BobTwo/1');
    const { page } = admin;
    await page.goto(new URL('/admin', kg.base).href);

    await page.fill('#admin-user', 'bob@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#admin-sessions tbody tr').length === 2, undefined, { timeout: 5000 });
    await page.locator('#admin-sessions tbody tr', { hasText: 'BobOne/1' }).getByRole('button', { name: 'End' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#admin-sessions tbody tr').length === 1, undefined, { timeout: 5000 });
    await carolA.page.waitForFunction(() => document.getElementById('logged-in-text')?.textContent === 'Not logged in', undefined, { timeout: 5000 });

    await page.getByRole('button', { name: 'End all sessions of this user' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#admin-sessions tbody tr').length === 0, undefined, { timeout: 5000 });
    await carolB.page.waitForFunction(() => document.getElementById('logged-in-text')?.textContent === 'Not logged in', undefined, { timeout: 5000 });

    // The administrator's own session: a confirmation first; Cancel keeps it.
    await page.fill('#admin-user', 'alice@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#admin-sessions tbody tr').length === 1, undefined, { timeout: 5000 });
    await page.locator('#admin-sessions tbody tr').getByRole('button', { name: 'End' }).click();
    assert.equal(await page.isVisible('#admin-confirm'), true);
    assert.match((await page.textContent('#admin-confirm-text')) ?? '', /your own current session/);
    await page.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await page.isVisible('#admin-confirm'), false);
    assert.equal((await page.request.get(new URL('/sessions', kg.base).href)).status(), 200, 'still logged in');
    await page.locator('#admin-sessions tbody tr').getByRole('button', { name: 'End' }).click();
    await page.getByRole('button', { name: 'Yes, end it' }).click();
    await page.waitForURL(`${kg.base.origin}/`);

    assert.deepEqual(await violations(page), []);
    assert.deepEqual(errors.filter((e) => !/401|Unauthorized/.test(e)), []);
    for (const c of [admin, carolA, carolB]) await c.context.close();
  });
});
