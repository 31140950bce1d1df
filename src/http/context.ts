import type { KeygateConfig } from '../config/types.js';
import type { OidcProvider } from '../oidc/provider.js';
import type { SessionStore } from '../session/store.js';
import type { Authorization } from '../token/authorize.js';
import type { Cookies } from './cookies.js';
import type { Metrics } from './metrics.js';
import type { Sealer } from './seal.js';

/** What every route module receives: the core objects, built once per app. */
export interface RouteContext {
  config: KeygateConfig;
  store: SessionStore;
  oidc: OidcProvider;
  cookies: Cookies;
  transactions: Sealer;
  authorize: (token: string) => Promise<Authorization>;
  metrics: Metrics;
  now: () => number;
}
