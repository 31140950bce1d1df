import { parseArgs } from 'node:util';
import { describeCause } from '../oidc/probe.js';
import { CliBrowser } from './browser.js';

export const TOKEN_USAGE = `Usage: keygate token --user <email> [--password <password>] [--scope <scopes>] [--base-url <url>]

  Logs in to a running Keygate in development mode, through its development provider's own login and consent
  forms, and prints the API token (only the token, on stdout): TOKEN=$(npx keygate token --user alice@example.com)

  --user       the development user's e-mail (DEV_USERS; alice@example.com and bob@example.com by default)
  --password   the user's password (default: the part of the e-mail before @, as for the demo users)
  --scope      scopes the token must carry (space- or comma-separated); Keygate asks for its SCOPE
  --base-url   where Keygate runs (default http://localhost:5000)
`;

/** A refusal: the message for stderr and the exit code (2: the request cannot be served as asked). */
export class TokenRefusal extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'TokenRefusal';
  }
}

interface TokenArgs {
  user: string;
  password: string;
  scopes: string[];
  base: URL;
}

function parse(argv: string[]): TokenArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { user: { type: 'string' }, password: { type: 'string' }, scope: { type: 'string' }, 'base-url': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new TokenRefusal(`${(error as Error).message}\n${TOKEN_USAGE}`);
  }
  const user = values.user?.trim();
  if (!user || !/^[^@\s]+@[^@\s]+$/.test(user)) throw new TokenRefusal(`--user <email> is required\n${TOKEN_USAGE}`);
  const base = URL.parse(values['base-url'] ?? 'http://localhost:5000');
  if (!base || !/^https?:$/.test(base.protocol) || base.search || base.hash) {
    throw new TokenRefusal(`--base-url must be an http(s) URL without query, got "${values['base-url']}"`);
  }
  // Routes live under BASE_URL's path: resolve them relative to it.
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  return { user, password: values.password ?? user.split('@')[0]!, scopes: (values.scope ?? '').split(/[\s,]+/).filter(Boolean), base };
}

/** The development provider's issuer, from its discovery under `<base>/idp`: the proof that Keygate runs in development mode. */
async function devIssuer(base: URL): Promise<URL> {
  const discovery = new URL('idp/.well-known/openid-configuration', base);
  let response: Response;
  try {
    response = await fetch(discovery, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new TokenRefusal(`cannot reach Keygate at ${base.href} (${describeCause(error)}). Is it running? Start it with npm start, or pass --base-url.`);
  }
  const metadata = response.ok ? ((await response.json().catch(() => undefined)) as { issuer?: unknown } | undefined) : undefined;
  const issuer = typeof metadata?.issuer === 'string' ? URL.parse(metadata.issuer) : null;
  if (!issuer || !issuer.pathname.replace(/\/$/, '').endsWith('/idp')) {
    throw new TokenRefusal(
      `the server at ${base.href} is not Keygate in development mode (no development provider at ${discovery.href}: ` +
        `${response.ok ? 'not its discovery document' : `HTTP ${response.status}`}). keygate token logs in only through the ` +
        'development provider; with a real provider, log in with a browser and copy the token from the key page.',
    );
  }
  return issuer;
}

const INTERACTION = /\/interaction\/[A-Za-z0-9_-]+\/?$/;

/** Logs in as a browser would and returns the session's API token as `GET /key.json` gives it. */
async function login(given: TokenArgs): Promise<{ token: string; token_kind: string; expires_at: number }> {
  let args = given;
  const issuer = await devIssuer(args.base);
  // Keygate's own BASE_URL (the issuer is `<BASE_URL>/idp`): its cookies and redirects use it, even when --base-url
  // named the same server differently (127.0.0.1 for localhost).
  args = { ...args, base: new URL(issuer.href.replace(/idp\/?$/, '')) };
  const browser = new CliBrowser(new Set([args.base.origin, issuer.origin]));
  const keyPage = new URL('key', args.base);
  let url = new URL('login', args.base);
  let response = await browser.request(url);
  let submitted = 0;
  for (let hop = 0; hop < 25; hop++) {
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.arrayBuffer();
      url = new URL(location, url);
      response = await browser.request(url);
      continue;
    }
    if (url.origin === issuer.origin && INTERACTION.test(url.pathname) && response.status === 200 && submitted < 2) {
      await response.arrayBuffer();
      // The development provider's interaction routes: `<interaction>/login` takes the credentials, then
      // `<interaction>/confirm` the consent — the actions of the two forms a browser would submit.
      const step = submitted === 0 ? 'login' : 'confirm';
      const action = new URL(`${url.pathname.replace(/\/$/, '')}/${step}`, url);
      response = await browser.request(action, { form: step === 'login' ? { email: args.user, password: args.password } : {} });
      if (step === 'login' && response.status === 401) throw new TokenRefusal(`wrong e-mail or password for ${args.user} (see DEV_USERS, or the users on Keygate's login page)`);
      url = action;
      submitted++;
      continue;
    }
    break;
  }
  if (url.href !== keyPage.href || response.status !== 200) {
    const text = (await response.text()).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
    throw new TokenRefusal(`the login did not reach the key page: ${url.href} answered ${response.status}${text ? `: ${text}` : ''}`, 1);
  }
  await response.arrayBuffer();
  const json = await browser.request(new URL('key.json', args.base), { accept: 'application/json' });
  const body = (await json.json().catch(() => undefined)) as { token?: unknown; token_kind?: unknown; expires_at?: unknown } | undefined;
  if (!json.ok || typeof body?.token !== 'string') throw new TokenRefusal(`${new URL('key.json', args.base).href} answered ${json.status}: no token`, 1);
  return { token: body.token, token_kind: String(body.token_kind), expires_at: Number(body.expires_at) };
}

/** The scopes a JWT grants (`scope` string or `scp` array); read without verifying, only to report. */
function tokenScopes(token: string): Set<string> {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { scope?: unknown; scp?: unknown };
    if (typeof claims.scope === 'string') return new Set(claims.scope.split(' ').filter(Boolean));
    if (Array.isArray(claims.scp)) return new Set(claims.scp.filter((s): s is string => typeof s === 'string'));
  } catch {
    // not a readable JWT: no scopes
  }
  return new Set();
}

/** `keygate token …`: the exit code; the token on stdout, every message on stderr. */
export async function tokenCommand(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    err.write(TOKEN_USAGE);
    return 0;
  }
  try {
    const args = parse(argv);
    const { token, token_kind: kind, expires_at: expiresAt } = await login(args);
    const granted = tokenScopes(token);
    const missing = args.scopes.filter((s) => !granted.has(s));
    if (missing.length > 0) {
      throw new TokenRefusal(
        kind === 'id_token'
          ? `the token is an ID token, which carries no scope (missing: ${missing.join(' ')}); start Keygate with AUDIENCE set and SCOPE including them`
          : `the token lacks ${missing.join(' ')}; start Keygate with SCOPE including ${missing.length > 1 ? 'them' : 'it'}`,
      );
    }
    out.write(`${token}\n`);
    const logout = new URL('logout', args.base).href;
    err.write(
      `keygate token: logged in as ${args.user}; ${kind === 'id_token' ? 'ID token' : 'access token'} valid until ` +
        `${new Date(expiresAt * 1000).toISOString()}. End it with: curl -X POST -H "Authorization: Bearer $TOKEN" ${logout}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof TokenRefusal) {
      err.write(`keygate token: ${error.message}\n`);
      return error.exitCode;
    }
    err.write(`keygate token: the login failed: ${describeCause(error)}\n`);
    return 1;
  }
}
