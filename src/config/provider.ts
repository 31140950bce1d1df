import { parseUrl } from '../keygate/validate.js';
import type { EnvReader } from './env.js';
import { DEFAULT_DEV_USERS, parseDevUsers } from './dev-users.js';
import type { ServerConfig } from './types.js';

type Provider = Pick<
  ServerConfig,
  'issuerUrl' | 'auth0' | 'clientId' | 'clientSecret' | 'audience' | 'scope' | 'refresh' | 'refreshBeforeSeconds' | 'requiredScopes' | 'devUsers'
>;

/** `dev` when no provider is named: the embedded development provider. */
export function modeOf(r: EnvReader): ServerConfig['mode'] {
  return r.read('AUTH_HOST') || r.read('ISSUER_URL') || r.read('CLIENT_ID') ? 'provider' : 'dev';
}

/**
 * The provider and Keygate's client at it: `AUTH_HOST` or `ISSUER_URL` (checked with the library's own rules
 * later, as `issuer`), `CLIENT_ID`, `CLIENT_SECRET`, `AUDIENCE`, `SCOPE`, `REFRESH`, `REQUIRED_SCOPES`, `DEV_USERS`.
 */
export function parseProvider(r: EnvReader, mode: ServerConfig['mode'], baseUrl: URL): Provider {
  const authHost = r.read('AUTH_HOST');
  const issuerSetting = r.read('ISSUER_URL');
  let issuerUrl = '';
  let auth0 = false;
  if (issuerSetting !== undefined) {
    issuerUrl = issuerSetting;
    auth0 = /\.auth0\.com$/i.test(parseUrl(issuerSetting)?.hostname ?? '');
  } else if (authHost !== undefined) {
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i.test(authHost)) {
      r.problems.push(`AUTH_HOST: expected a host name such as example.eu.auth0.com (no scheme, no path), got "${authHost}"`);
    } else {
      issuerUrl = `https://${authHost.toLowerCase()}/`;
      auth0 = true;
    }
  } else if (mode === 'provider') {
    r.problems.push('AUTH_HOST or ISSUER_URL: one is required when CLIENT_ID is set (or unset all three for the development provider)');
  }
  if (mode === 'dev') issuerUrl = `${baseUrl.href.replace(/\/$/, '')}/idp`;

  const clientIdSetting = r.read('CLIENT_ID');
  const clientSecretSetting = r.read('CLIENT_SECRET');
  let clientId = clientIdSetting ?? 'keygate-dev';
  let clientSecret = clientSecretSetting ?? 'keygate-dev-secret-not-for-production';
  if (mode === 'provider') {
    if (clientIdSetting === undefined) r.problems.push('CLIENT_ID: required with AUTH_HOST or ISSUER_URL');
    if (clientSecretSetting === undefined) r.problems.push('CLIENT_SECRET: required with AUTH_HOST or ISSUER_URL');
    clientId = clientIdSetting ?? '';
    clientSecret = clientSecretSetting ?? '';
  }

  // AUDIENCE: absent (or empty) means the API token is the ID token; blank or several words is checked as `audience`.
  const audienceSetting = r.env.AUDIENCE;
  const audience = audienceSetting === undefined || audienceSetting === '' ? undefined : audienceSetting.trim() === '' ? audienceSetting : audienceSetting.trim();
  if (audience !== undefined && mode === 'dev' && audience.trim() !== '' && !/\s/.test(audience) && !parseUrl(audience)) {
    r.problems.push(`AUDIENCE: the development provider needs an absolute URI, got "${audience}"`);
  }

  let scope = r.read('SCOPE') ?? 'openid email';
  if (!scope.split(/\s+/).includes('openid')) r.problems.push(`SCOPE: must include "openid", got "${scope}"`);
  // REFRESH: keep a refresh token and renew the API token before it expires; it needs `offline_access` (Auth0).
  const refresh = r.bool('REFRESH', scope.split(/\s+/).includes('offline_access'));
  if (refresh && !scope.split(/\s+/).includes('offline_access')) scope = `${scope} offline_access`;
  const refreshBeforeSeconds = r.int('REFRESH_BEFORE_SECONDS', 60, 5, 3600);
  const requiredScopes = r.list('REQUIRED_SCOPES') ?? [];
  if (requiredScopes.length > 0 && audience === undefined) r.problems.push('REQUIRED_SCOPES: only applies to access tokens; set AUDIENCE too');

  let devUsers = DEFAULT_DEV_USERS;
  const devUsersSetting = r.read('DEV_USERS');
  if (devUsersSetting !== undefined) {
    if (mode !== 'dev') r.problems.push('DEV_USERS: only used by the development provider; unset it with AUTH_HOST/ISSUER_URL');
    devUsers = parseDevUsers(devUsersSetting, r.problems);
  }

  return {
    issuerUrl, auth0, clientId, clientSecret, audience, scope, refresh, refreshBeforeSeconds,
    requiredScopes: Object.freeze(requiredScopes), devUsers: Object.freeze([...devUsers]),
  };
}
