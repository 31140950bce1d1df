import * as client from 'openid-client';
import type { IssuerClient } from '../keygate/issuer.js';
import { providerText } from './errors.js';

/** Where discovery reads the provider's metadata (the issuer without its trailing slash, plus the well-known path). */
export function discoveryUrl(issuerUrl: string): string {
  return `${issuerUrl.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/**
 * The cause of a failed call to the provider in a few words an operator can act on: the system error code with its
 * message (`getaddrinfo ENOTFOUND foo.auth0.com`), the HTTP status, a timeout, or the library's own message.
 */
export function describeCause(error: unknown): string {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) {
      return e.message.includes(code) ? providerText(e.message, 160) : `${code} (${providerText(e.message, 120)})`;
    }
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'no answer in time (timeout)';
    if (e instanceof client.ResponseBodyError) return `HTTP ${e.status}${e.error ? ` ${providerText(e.error, 64)}` : ''}`;
    const response = (e as { cause?: unknown }).cause;
    if (response instanceof Response) return `HTTP ${response.status}`;
  }
  return error instanceof Error ? providerText(error.message, 200) : 'unknown error';
}

/** One sentence naming the discovery URL and the cause, for a log line, `--check-config` and the 502 page. */
export function discoveryFailure(issuerUrl: string, error: unknown): string {
  return `The provider's discovery at ${discoveryUrl(issuerUrl)} failed: ${describeCause(error)}.`;
}

/** Tries discovery once; resolves to undefined when it works, or to the sentence naming the URL and the cause. */
export async function probeDiscovery(issuer: IssuerClient): Promise<string | undefined> {
  try {
    await issuer.discover();
    return undefined;
  } catch (error) {
    return discoveryFailure(issuer.settings.issuer, error);
  }
}
