/** The embedded development OpenID Provider (oidc-provider inside Keygate's process). */
export type { DevIdp, DevIdpClient, DevIdpOptions } from './types.js';
export { createDevIdp } from './factory.js';
export { startDevIdp } from './standalone.js';
export type { RunningDevIdp, StartDevIdpOptions } from './standalone.js';
export { subjectFor } from './account.js';
export { apiScopes, scopeWarnings } from './scopes.js';
