import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { AccountDirectory } from './account.js';
import { HttpError, field, readForm } from './form.js';
import { consentPage, errorPage, loginPage } from './pages.js';
import { clientOrigins, sendHtml } from './security.js';
import type { DevIdpClient } from './types.js';

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,128})(?:\/(login|confirm|abort))?\/?$/;

const EXPIRED = new HttpError(
  400,
  'Sign-in expired',
  'This sign-in attempt is unknown or has expired. Go back to the application and log in again.',
);

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Serves `<mount>/interaction/:uid` (GET) and `<mount>/interaction/:uid/{login,confirm,abort}` (POST). */
export class InteractionRoutes {
  readonly #allOrigins: string[];
  readonly #origins: Map<string, string[]>;

  constructor(
    private readonly provider: Provider,
    private readonly mountPath: string,
    private readonly accounts: AccountDirectory,
    clients: readonly DevIdpClient[],
  ) {
    this.#allOrigins = clientOrigins(clients);
    this.#origins = new Map(clients.map((c) => [c.clientId, clientOrigins([c])]));
  }

  /** True when the (mount-relative) path is an interaction route. */
  static matches(path: string): boolean {
    return path === '/interaction' || path.startsWith('/interaction/');
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    let targets = this.#allOrigins;
    try {
      const match = ROUTE.exec(path);
      if (!match) throw new HttpError(404, 'Not found', 'The development identity provider has no such page.');
      const uid = match[1] ?? '';
      const action = match[2];
      const method = req.method ?? 'GET';
      if (action ? method !== 'POST' : method !== 'GET' && method !== 'HEAD') {
        res.setHeader('Allow', action ? 'POST' : 'GET, HEAD');
        throw new HttpError(405, 'Method not allowed', `Use ${action ? 'POST' : 'GET'} for this page.`);
      }

      const details = await this.#details(req, res, uid);
      const clientId = typeof details.params['client_id'] === 'string' ? details.params['client_id'] : '';
      targets = this.#origins.get(clientId) ?? this.#allOrigins;

      switch (action) {
        case undefined:
          return this.#show(res, details, clientId, targets);
        case 'login':
          return await this.#login(req, res, details, clientId, targets);
        case 'confirm':
          return await this.#confirm(req, res, details, clientId);
        default:
          return await this.provider.interactionFinished(req, res, {
            error: 'access_denied',
            error_description: 'End-User aborted interaction',
          }, { mergeWithLastSubmission: false });
      }
    } catch (error) {
      this.#fail(res, error, targets);
    }
  }

  async #details(req: IncomingMessage, res: ServerResponse, uid: string): Promise<InteractionDetails> {
    let details: InteractionDetails;
    try {
      details = await this.provider.interactionDetails(req, res);
    } catch (error) {
      if (error instanceof errors.SessionNotFound) throw EXPIRED;
      throw error;
    }
    if (details.uid !== uid) throw EXPIRED;
    return details;
  }

  #show(res: ServerResponse, details: InteractionDetails, clientId: string, targets: string[]): void {
    if (details.prompt.name === 'login') {
      sendHtml(res, 200, loginPage({ mountPath: this.mountPath, uid: details.uid, clientId, users: this.accounts.users }), targets);
      return;
    }
    if (details.prompt.name === 'consent') {
      sendHtml(res, 200, this.#consentHtml(details, clientId), targets);
      return;
    }
    throw new HttpError(400, 'Unsupported prompt', `The prompt "${details.prompt.name}" is not supported by the development provider.`);
  }

  #consentHtml(details: InteractionDetails, clientId: string): string {
    const info = details.prompt.details;
    const accountId = details.session?.accountId;
    const account = accountId ? this.accounts.bySub(accountId) : undefined;
    const resourceScopes = (info['missingResourceScopes'] ?? {}) as Record<string, unknown>;
    return consentPage({
      mountPath: this.mountPath,
      uid: details.uid,
      clientId,
      accountEmail: account?.user.email ?? accountId ?? 'unknown user',
      scopes: stringArray(info['missingOIDCScope']),
      claims: stringArray(info['missingOIDCClaims']),
      resources: Object.entries(resourceScopes).map(([resource, scopes]) => ({ resource, scopes: stringArray(scopes) })),
    });
  }

  async #login(req: IncomingMessage, res: ServerResponse, details: InteractionDetails, clientId: string, targets: string[]): Promise<void> {
    if (details.prompt.name !== 'login') throw new HttpError(400, 'Already signed in', 'This sign-in attempt does not expect a login any more.');
    const form = await readForm(req);
    const email = field(form, 'email') ?? '';
    const password = field(form, 'password') ?? '';
    const account = email && password ? this.accounts.authenticate(email, password) : undefined;
    if (!account) {
      const page = loginPage({
        mountPath: this.mountPath,
        uid: details.uid,
        clientId,
        users: this.accounts.users,
        email: email.slice(0, 256),
        error: 'Wrong e-mail or password.',
      });
      sendHtml(res, 401, page, targets);
      return;
    }
    await this.provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
  }

  async #confirm(req: IncomingMessage, res: ServerResponse, details: InteractionDetails, clientId: string): Promise<void> {
    if (details.prompt.name !== 'consent') throw new HttpError(400, 'Nothing to confirm', 'This sign-in attempt does not expect a consent.');
    await readForm(req); // the form carries nothing, but its type and size are still checked
    const accountId = details.session?.accountId;
    if (!accountId || !clientId) throw EXPIRED;

    const grant = details.grantId
      ? await this.provider.Grant.find(details.grantId)
      : new this.provider.Grant({ accountId, clientId });
    if (!grant) throw EXPIRED;

    const info = details.prompt.details;
    const scopes = stringArray(info['missingOIDCScope']);
    if (scopes.length) grant.addOIDCScope(scopes.join(' '));
    const claims = stringArray(info['missingOIDCClaims']);
    if (claims.length) grant.addOIDCClaims(claims);
    const resourceScopes = (info['missingResourceScopes'] ?? {}) as Record<string, unknown>;
    for (const [resource, value] of Object.entries(resourceScopes)) {
      grant.addResourceScope(resource, stringArray(value).join(' '));
    }
    const grantId = await grant.save();
    await this.provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  #fail(res: ServerResponse, error: unknown, targets: string[]): void {
    let status = 500;
    let title = 'The development provider failed';
    let message = 'Something went wrong while handling this sign-in. Go back to the application and try again.';
    if (error instanceof HttpError) {
      ({ status, title, message } = error);
    } else if (error instanceof errors.OIDCProviderError && error.statusCode < 500) {
      status = error.statusCode;
      title = 'The sign-in request was rejected';
      message = error.error_description ?? error.message;
    } else {
      process.stderr.write(`keygate dev-idp: interaction failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    if (status === 413) res.setHeader('Connection', 'close');
    sendHtml(res, status, errorPage(this.mountPath, title, message), targets);
  }
}
