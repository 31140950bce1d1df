import * as client from 'openid-client';
import { KeygateError, LoginError, ProviderError } from '../errors.js';

const REDACT = /[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]*/g;

/** Keeps a provider-supplied text short and free of anything that looks like a token. */
export function providerText(value: unknown, max = 300): string {
  const text = typeof value === 'string' ? value : '';
  const clean = text.replace(REDACT, '[token]').replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

function isTimeout(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  }
  return false;
}

function isNetwork(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof TypeError && /fetch failed/i.test(e.message)) return true;
    if (typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+/.test((e as NodeJS.ErrnoException).code!)) return true;
  }
  return false;
}

/** Maps failures of discovery, the token endpoint, userinfo and ID token validation to Keygate errors. */
export function mapOidcError(error: unknown, step: string): KeygateError {
  if (error instanceof KeygateError) return error;
  if (error instanceof client.AuthorizationResponseError) {
    // The provider's own code is named in the text; the answer's code is ours (one table of codes).
    const code = providerText(error.error, 64) || 'an error';
    const description = providerText(error.error_description) || 'The provider did not authorize the login.';
    return new LoginError(code === 'access_denied' ? 'access_denied' : 'authorization_error', `The provider answered "${code}": ${description}`, error);
  }
  if (error instanceof client.ResponseBodyError) {
    const code = providerText(error.error, 64);
    if (code === 'invalid_grant') {
      return new LoginError('invalid_grant', 'The authorization code is invalid, expired or was already used. Please log in again.', error);
    }
    return new ProviderError('provider_error', `The provider refused the ${step} (${code || `HTTP ${error.status}`}).`, error);
  }
  if (isTimeout(error)) return new ProviderError('provider_timeout', `The provider did not answer the ${step} in time.`, error);
  if (isNetwork(error)) return new ProviderError('provider_unreachable', `The provider could not be reached for the ${step}.`, error);
  if (error instanceof client.ClientError) {
    switch (error.code) {
      case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED':
      case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
      case 'OAUTH_KEY_SELECTION_FAILED':
      case 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED':
        // The ID token of a code exchange may be forged or replayed (client side, 400); discovery or userinfo
        // answers that contradict what the provider said before are the provider's fault (502).
        if (step === 'code exchange') {
          return new LoginError('invalid_id_token', `The ID token failed validation: ${providerText(error.message)}.`, error);
        }
        return new ProviderError('provider_bad_response', `The provider's answer to the ${step} failed validation: ${providerText(error.message)}.`, error);
      case 'OAUTH_INVALID_RESPONSE': {
        // openid-client wraps ID token validation failures (signature, alg, missing nonce or sub) in this code;
        // the reason is in the cause. They end the login like the comparison failures above.
        const reason = error.cause instanceof Error ? error.cause.message : '';
        if (step === 'code exchange' && /JWT|signature/i.test(reason)) {
          return new LoginError('invalid_id_token', `The ID token failed validation: ${providerText(reason)}.`, error);
        }
        return new ProviderError('provider_bad_response', `The provider gave an invalid answer to the ${step}: ${providerText(reason || error.message)}.`, error);
      }
      default:
        return new ProviderError('provider_bad_response', `The provider gave an invalid answer to the ${step}: ${providerText(error.message)}.`, error);
    }
  }
  if (error instanceof Error && /signature/i.test(error.message)) {
    return new LoginError('invalid_id_token', `The ${step} failed validation: the signature is invalid.`, error);
  }
  return new ProviderError('provider_bad_response', `The provider gave an unexpected answer to the ${step}.`, error);
}
