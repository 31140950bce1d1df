import type { Audit } from '../audit/audit.js';
import type { ServerConfig } from '../config/types.js';
import type { Keygate } from '../keygate/create.js';
import type { RelyingParty } from '../oidc/relying-party.js';
import type { SessionStore } from '../session/store.js';
import type { Cookies } from './cookies.js';
import type { LastUsedTracker } from './last-used.js';
import type { Metrics } from './metrics.js';
import type { Sealer } from './seal.js';

/** What every route module receives: the core objects, built once per app. */
export interface RouteContext {
  config: ServerConfig;
  store: SessionStore;
  /** The core: verification, store checks, policies — the one path of every bearer door. */
  keygate: Keygate;
  /** Keygate as a client of its provider: login, callback, refresh, logout. */
  oidc: RelyingParty;
  cookies: Cookies;
  transactions: Sealer;
  metrics: Metrics;
  /** The audit trail: one log line and one count per event (src/audit). */
  audit: Audit;
  now: () => number;
  /** Records sessions' last use off the critical path; absent with TRACK_LAST_USED=false. */
  lastUsed?: LastUsedTracker;
}
