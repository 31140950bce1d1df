import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { escapeHtml } from '../src/pages/html.js';
import { layout } from '../src/pages/layout.js';
import { renderLoginPage } from '../src/pages/login.js';
import { renderKeyPage, type KeyPageOptions } from '../src/pages/key.js';
import { renderErrorPage } from '../src/pages/error.js';
import { renderLogoutConfirmPage } from '../src/pages/logout.js';
import * as format from '../public/key/format.js';

const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));

/** The browser's JavaScript: every .js file under public/, by its path there ("key.js", "key/live.js"). */
function browserModules(): Map<string, string> {
  const files = new Map<string, string>();
  for (const found of readdirSync(PUBLIC_DIR, { recursive: true, encoding: 'utf8' })) {
    const path = found.split('\\').join('/');
    if (path.endsWith('.js')) files.set(path, readFileSync(PUBLIC_DIR + path, 'utf8'));
  }
  return files;
}

/** The specifiers of a module's static imports: `import … from '…'` and `import '…'`. */
function importsOf(js: string): string[] {
  return [...js.matchAll(/^\s*import\b(?:[^'"]*?\bfrom)?\s*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

const HOSTILE = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  `'"quoted" & 'single'`,
  '</textarea><script>alert(2)</script>',
  'javascript:alert(3)" onmouseover="alert(4)',
];
/** One string with all hostile fragments. */
const EVIL = HOSTILE.join(' | ');

const PROTECTED_URL = 'http://localhost:5000/protected';

function keyOptions(over: Partial<KeyPageOptions> = {}): KeyPageOptions {
  return {
    token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln',
    tokenKind: 'ID token',
    header: { alg: 'RS256', kid: 'k1', typ: 'JWT' },
    claims: { sub: 'user-1', email: 'a@example.com', exp: 2_000_000_000, iat: 1_999_996_400 },
    profile: { sub: 'user-1', email: 'a@example.com', name: 'Ada Lovelace', email_verified: true },
    protectedUrl: PROTECTED_URL,
    logoutAction: '/logout',
    ...over,
  };
}

function hostileKeyOptions(): KeyPageOptions {
  return keyOptions({
    token: EVIL,
    header: { alg: EVIL, [EVIL]: EVIL },
    claims: { sub: EVIL, email: EVIL, exp: 2_000_000_000, nested: { x: EVIL } },
    profile: { sub: EVIL, email: EVIL, name: EVIL, picture: EVIL, email_verified: false },
    protectedUrl: `${PROTECTED_URL}?q=${EVIL}`,
    logoutAction: EVIL,
  });
}

/** Every page rendered with hostile input in every field. */
function hostilePages(): Record<string, string> {
  return {
    layout: layout({ title: EVIL, body: '<p>trusted body</p>', scripts: ['key.js'] }),
    login: renderLoginPage({
      providerLabel: EVIL,
      devUsers: [{ email: EVIL, password: EVIL }],
      returnTo: EVIL,
    }),
    key: renderKeyPage(hostileKeyOptions()),
    error: renderErrorPage({ status: 400, code: EVIL, description: EVIL, detail: EVIL }),
    errorWithTitle: renderErrorPage({ status: 500, code: EVIL, description: EVIL, title: EVIL }),
    logout: renderLogoutConfirmPage({ action: EVIL }),
  };
}

/** Plain pages, with normal values. */
function plainPages(): Record<string, string> {
  return {
    login: renderLoginPage({ providerLabel: 'Keygate development provider' }),
    loginDev: renderLoginPage({
      providerLabel: 'Keygate development provider',
      devUsers: [{ email: 'alice@example.com', password: 'alice-pass' }],
      returnTo: '/key',
    }),
    key: renderKeyPage(keyOptions()),
    error: renderErrorPage({ status: 400, code: 'access_denied', description: 'Denied.' }),
    error500: renderErrorPage({ status: 502, code: 'provider_unavailable', description: 'Down.', detail: 'stack' }),
    logout: renderLogoutConfirmPage({ action: '/logout' }),
  };
}

/** Start tags with their attributes (values unescaped as written); escaped text never yields a tag. */
function tagsOf(html: string): { tag: string; attrs: [string, string][] }[] {
  const out: { tag: string; attrs: [string, string][] }[] = [];
  for (const m of html.matchAll(/<([a-zA-Z][\w-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*\/?>/g)) {
    const attrs: [string, string][] = [];
    for (const a of (m[2] ?? '').matchAll(/([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
      attrs.push([a[1]!.toLowerCase(), a[2] ?? a[3] ?? a[4] ?? '']);
    }
    out.push({ tag: m[1]!.toLowerCase(), attrs });
  }
  return out;
}

function allPages(): [string, string][] {
  return [
    ...Object.entries(hostilePages()).map(([k, v]): [string, string] => [`hostile ${k}`, v]),
    ...Object.entries(plainPages()),
  ];
}

test('hostile values never appear raw, only escaped', () => {
  for (const [name, html] of Object.entries(hostilePages())) {
    for (const fragment of HOSTILE) {
      assert.ok(!html.includes(fragment), `${name}: raw ${fragment}`);
    }
    assert.ok(!html.includes('<script>alert'), `${name}: raw script`);
    // The only image element is the key page's empty picture slot, which its script fills with data: images only.
    assert.ok(!html.replace('<img id="live-picture-img" class="avatar large" alt="" hidden>', '').includes('<img'), `${name}: raw img`);
    assert.ok(!/<textarea[^>]*>[^<]*<\/textarea>[^]*<\/textarea>/.test(html), `${name}: textarea broken out of`);
  }
  const pages = hostilePages();
  // The escaped forms are there (the value is shown, not dropped).
  for (const name of ['login', 'key', 'error', 'errorWithTitle']) {
    assert.ok(pages[name]!.includes(escapeHtml('<script>alert(1)</script>')), `${name}: escaped value shown`);
  }
  assert.ok(pages.layout!.includes(`<title>${escapeHtml(EVIL)} · Keygate</title>`));
  assert.ok(pages.key!.includes(`<textarea id="token"`));
  assert.ok(pages.key!.includes(`>${escapeHtml(EVIL)}</textarea>`), 'token in textarea, escaped');
  assert.ok(pages.logout!.includes(`action="${escapeHtml(EVIL)}"`));
  assert.ok(pages.key!.includes(`action="${escapeHtml(EVIL)}"`));
  assert.ok(pages.error!.includes(`<pre>${escapeHtml(EVIL)}</pre>`), 'detail in a pre');
  assert.ok(pages.login!.includes(`href="/login?returnTo=${escapeHtml(encodeURIComponent(EVIL))}"`));
});

test('pages obey the strict CSP: no inline script, style or handlers; nothing from other hosts', () => {
  // The checker itself sees what it must reject.
  assert.deepEqual(tagsOf('<p>x</p><a href="https://evil.example/" onclick="y" style=\'z\'>').at(-1), {
    tag: 'a',
    attrs: [['href', 'https://evil.example/'], ['onclick', 'y'], ['style', 'z']],
  });
  for (const [name, html] of allPages()) {
    assert.ok(!/<script\b[^>]*>[^<]+<\/script>/i.test(html), `${name}: inline script body`);
    for (const m of html.matchAll(/<script\b([^>]*)>/gi)) {
      assert.match(m[1]!, /\bsrc="\/static\/[\w.-]+"/, `${name}: script without same-origin src`);
    }
    assert.ok(!/<style\b/i.test(html), `${name}: <style> element`);
    for (const { tag, attrs } of tagsOf(html)) {
      for (const [attr, value] of attrs) {
        assert.ok(!/^on/i.test(attr), `${name}: on* handler attribute ${attr} on <${tag}>`);
        assert.notEqual(attr, 'style', `${name}: style attribute on <${tag}>`);
        if (/^(?:src|href|action|srcset|poster|data|formaction|xlink:href)$/i.test(attr)) {
          assert.ok(!/^\s*(?:https?:)?\/\//i.test(value), `${name}: external URL ${attr}="${value}"`);
          assert.ok(!/^\s*javascript:/i.test(value), `${name}: javascript: URL ${attr}="${value}"`);
        }
      }
    }
    // Belt and braces on the raw text, outside of escaped values.
    assert.ok(!/style="/.test(html), `${name}: style="`);
    assert.ok(!/<[^>]*\son\w+=/i.test(html.replace(/"[^"]*"/g, '""')), `${name}: on*= inside a tag`);
    assert.ok(!/<(?:iframe|object|embed)\b/i.test(html), `${name}: embedded content`);
    for (const img of html.match(/<img\b[^>]*>/gi) ?? []) assert.ok(!/\bsrc=/i.test(img), `${name}: an image with a source: ${img}`);
    assert.ok(html.startsWith('<!doctype html>'), `${name}: doctype`);
    assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(html, /<html lang="en">/);
    assert.match(html, /<link rel="stylesheet" href="\/static\/keygate\.css">/);
  }
});

test('key page: token, curl line, expiry, live panel ids, Log out form', () => {
  const o = keyOptions();
  const html = renderKeyPage(o);
  assert.match(html, new RegExp(`<textarea id="token"[^>]*\\breadonly\\b[^>]*>${o.token.replace(/\./g, '\\.')}</textarea>`));
  assert.ok(html.includes(escapeHtml(`curl -H "Authorization: Bearer ${o.token}" ${PROTECTED_URL}`)), 'curl line');
  assert.ok(html.includes('data-exp="2000000000"'));
  for (const id of ['token', 'logged-in', 'live-email', 'live-raw', 'live-status', 'expires-in']) {
    assert.ok(html.includes(`id="${id}"`), `id ${id}`);
  }
  assert.match(html, /<input type="checkbox" id="logged-in" disabled>/);
  assert.match(html, /<pre id="live-raw"/);
  assert.match(html, /<form class="logout-form" method="post" action="\/logout">\s*<button class="button danger" type="submit">Log out<\/button>/);
  assert.ok(html.includes('data-protected-url="/protected"'), 'same-origin path for fetch');
  assert.ok(!html.includes(`href="${PROTECTED_URL}`), 'no link carrying the protected URL');
  assert.ok(html.includes('<script type="module" src="/static/key.js"></script>'), 'key.js loaded as an ES module');
  assert.ok(html.includes('ID token'));
  assert.ok(html.includes('&quot;alg&quot;: &quot;RS256&quot;'), 'pretty-printed header');
  assert.ok(html.includes('&quot;exp&quot;: 2000000000'), 'pretty-printed claims');
  assert.match(html, /expires in \d+:\d\d(:\d\d)?/);
  assert.ok(html.includes('>Copy</button>'));
  // The token is never placed in a URL.
  for (const m of html.matchAll(/\b(?:src|href|action)="([^"]*)"/g)) {
    assert.ok(!m[1]!.includes(o.token), `token in URL ${m[0]}`);
  }
});

test('key page: expired token and missing exp', () => {
  const expired = renderKeyPage(keyOptions({ claims: { exp: 1 } }));
  assert.ok(expired.includes('data-exp="1"'));
  assert.match(expired, /class="expiry expired"[^>]*>expired</);
  const none = renderKeyPage(keyOptions({ claims: { sub: 'x' } }));
  assert.ok(none.includes('data-exp=""'));
  assert.ok(none.includes('no expiry claim'));
  const access = renderKeyPage(keyOptions({ tokenKind: 'access token' }));
  assert.ok(access.includes('access token'));
});

test('login page: Log in link, returnTo, demo users only when given', () => {
  const plain = renderLoginPage({ providerLabel: 'example.eu.auth0.com' });
  assert.match(plain, /<a class="button primary" href="\/login">Log in<\/a>/);
  assert.ok(plain.includes('example.eu.auth0.com'));
  assert.ok(!plain.includes('Demo users'));
  assert.ok(!plain.includes('<table'));

  const empty = renderLoginPage({ providerLabel: 'p', devUsers: [] });
  assert.ok(!empty.includes('Demo users'));

  const dev = renderLoginPage({
    providerLabel: 'Keygate development provider',
    devUsers: [
      { email: 'alice@example.com', password: 'alice-pass' },
      { email: 'bob@example.org', password: 'bob-pass' },
    ],
    returnTo: '/key?x=1&y=2',
  });
  assert.ok(dev.includes('Demo users'));
  for (const s of ['alice@example.com', 'alice-pass', 'bob@example.org', 'bob-pass']) assert.ok(dev.includes(s), s);
  assert.ok(dev.includes(`href="/login?returnTo=${escapeHtml(encodeURIComponent('/key?x=1&y=2'))}"`));
  assert.ok(dev.includes('>Log in</a>'));
});

test('error page: title by status, status/code/description, links, detail only when given', () => {
  const html = renderErrorPage({ status: 403, code: 'access_denied', description: 'You are not on the list.' });
  assert.ok(html.includes('Login failed'));
  assert.ok(html.includes('403'));
  assert.ok(html.includes('access_denied'));
  assert.ok(html.includes('You are not on the list.'));
  assert.ok(html.includes('href="/"'));
  assert.match(html, /href="\/login">Log in<\/a>/);
  assert.ok(!html.includes('<pre'));
  const server = renderErrorPage({ status: 502, code: 'provider_error', description: 'x', detail: 'Error: boom\n  at y' });
  assert.ok(server.includes('Something went wrong'));
  assert.ok(server.includes('<pre>Error: boom\n  at y</pre>'));
  assert.ok(renderErrorPage({ status: 404, code: 'not_found', description: 'x' }).includes('Page not found'));
  assert.ok(renderErrorPage({ status: 400, code: 'c', description: 'd', title: 'Custom' }).includes('<h1>Custom</h1>'));
});

test('logout confirmation page posts to the action with a Log out button', () => {
  const html = renderLogoutConfirmPage({ action: '/logout' });
  assert.ok(html.includes('Log out of Keygate?'));
  assert.match(html, /<form[^>]*method="post" action="\/logout">\s*<button class="button danger" type="submit">Log out<\/button>/);
});

test('every /static/<name> a page references exists in public/', () => {
  const referenced = new Set<string>();
  for (const [, html] of allPages()) {
    for (const m of html.matchAll(/"\/static\/([^"?#]+)"/g)) referenced.add(decodeURIComponent(m[1]!));
  }
  assert.ok(referenced.has('keygate.css'));
  assert.ok(referenced.has('key.js'));
  for (const name of referenced) {
    assert.ok(!name.includes('..'), name);
    assert.ok(existsSync(PUBLIC_DIR + name), `public/${name} missing`);
  }
});

test('the key page\'s modules stay within the rules: no innerHTML, same-origin fetch with the bearer header', () => {
  const modules = browserModules();
  assert.ok(modules.has('key.js'));
  const js = [...modules.values()].join('\n');
  for (const [name, source] of modules) {
    assert.ok(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function|import\(/.test(source), `${name}: an HTML sink or dynamic code`);
  }
  for (const s of ["'Bearer ' + token", "cache: 'no-store'", "credentials: 'omit'", 'navigator.clipboard', 'AbortController', 'Keygate unreachable', 'setTimeout(check']) {
    assert.ok(js.includes(s), `the key page's modules lack ${s}`);
  }
  assert.ok(!/setInterval\(check/.test(js), 'requests are chained, not stacked');
  const css = readFileSync(PUBLIC_DIR + 'keygate.css', 'utf8');
  assert.ok(!/@import|url\(\s*["']?https?:/i.test(css), 'no external CSS resources');
});

test('key.js and admin.js import their modules by relative URL, every import resolves to a file in public/, none is left unused', () => {
  const modules = browserModules();
  const reached = new Set<string>();
  const pending = ['key.js', 'admin.js'];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (reached.has(name)) continue;
    reached.add(name);
    for (const specifier of importsOf(modules.get(name)!)) {
      // Relative, with its extension: the browser resolves it against /static/<name> with no import map.
      assert.match(specifier, /^\.\.?\/[\w./-]+\.js$/, `${name} imports ${specifier}`);
      const target = posix.normalize(posix.join(dirname(name), specifier));
      assert.ok(!target.startsWith('..'), `${name} imports ${specifier}, outside public/`);
      assert.ok(modules.has(target), `${name} imports ${specifier}: public/${target} missing`);
      pending.push(target);
    }
  }
  assert.deepEqual([...modules.keys()].filter((name) => !reached.has(name)).sort(), [], 'modules nothing imports');
});

test('format.js is the one copy of the helpers the server and the browser share', () => {
  // Its declared types name exactly what it exports.
  const declared = [...readFileSync(PUBLIC_DIR + 'key/format.d.ts', 'utf8').matchAll(/export declare function (\w+)/g)].map((m) => m[1]!);
  assert.deepEqual(declared.sort(), Object.keys(format).sort());
  // No function is defined both in the browser's modules and in the server's pages.
  const defined = (source: string) => new Set([...source.matchAll(/\bfunction\s+(\w+)/g)].map((m) => m[1]!));
  const browser = defined([...browserModules().values()].join('\n'));
  const pagesDir = fileURLToPath(new URL('../src/pages/', import.meta.url));
  for (const file of readdirSync(pagesDir)) {
    for (const name of defined(readFileSync(pagesDir + file, 'utf8'))) {
      assert.ok(!browser.has(name), `${name} is defined in src/pages/${file} and in public/`);
    }
  }
});

test('format.js: expiry wording, initials, avatar colour, pretty JSON', () => {
  assert.equal(format.expiryText(undefined, 0), 'no expiry claim');
  assert.equal(format.expiryText(Number.NaN, 0), 'no expiry claim');
  assert.equal(format.expiryText(100, 100), 'expired');
  assert.equal(format.expiryText(100, 150), 'expired');
  assert.equal(format.expiryText(100 + 59 * 60 + 12, 100), 'expires in 59:12');
  assert.equal(format.expiryText(3723, 0), 'expires in 1:02:03');
  // The browser's clock carries a fraction: 61.4 s left is still "1:01".
  assert.equal(format.expiryText(1000, 938.6), 'expires in 1:01');
  assert.equal(format.initials({ name: '  Ada   King Lovelace ' }), 'AL');
  assert.equal(format.initials({ name: 'ada' }), 'A');
  assert.equal(format.initials({ name: '😀 émile' }), '😀É');
  assert.equal(format.initials({ email: 'bob@example.com', sub: 'x' }), 'B');
  assert.equal(format.initials({ email: '', sub: 'zed' }), 'Z');
  assert.equal(format.initials({ name: 42, email: ['x'], sub: 'q' }), 'Q', 'values that are not strings are ignored');
  assert.equal(format.initials({}), '?');
  assert.equal(format.initials(null), '?');
  assert.match(format.avatarColorClass('user-1'), /^avatar-c[0-5]$/);
  assert.equal(format.avatarColorClass('user-1'), format.avatarColorClass('user-1'));
  assert.equal(format.prettyJson({ a: 1, b: [2] }), '{\n  "a": 1,\n  "b": [\n    2\n  ]\n}');
  assert.equal(format.prettyJson({ n: 10n }), '{\n  "n": "10"\n}');
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  assert.equal(format.prettyJson(cycle), '(value cannot be shown as JSON)');
  assert.equal(format.prettyJson(undefined), 'undefined');
});
