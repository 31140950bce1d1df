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
  now: () => number;
  /** Records sessions' last use off the critical path; absent with TRACK_LAST_USED=false. */
  lastUsed?: LastUsedTracker;
  /**
   * Where session administration and refused attempts are reported (the audit trail, src/audit/, wired by the
   * server); absent: not reported. Never given secrets: only public session ids, subjects and addresses.
   */
  audit?: (event: SessionAuditEvent) => void;
}

/** One audit event of the sessions routes (`GET/DELETE /sessions`, `/admin/…`). */
export interface SessionAuditEvent {
  event: 'session_ended_by_owner' | 'session_ended_by_admin' | 'user_logged_out_by_admin' | 'admin_sessions_listed' | 'admin_refused';
  outcome: 'success' | 'refused';
  /** The caller's sub. */
  actor: string | undefined;
  /** The user whose sessions were acted on (sub), when known. */
  subject?: string | undefined;
  /** Public session id (never the internal one). */
  session?: string | undefined;
  clientAddress: string;
  /** Why it was refused, or how many sessions it ended. */
  reason?: string;
  count?: number;
}
