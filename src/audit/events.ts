/**
 * Every audit event Keygate writes, one name each. A const list, so that `/metrics` can name a bounded label set and
 * a typo in a caller is a type error, not a new event nobody watches for.
 */
export const AUDIT_EVENTS = [
  /** A login finished (`success`) or was refused by ALLOWED_USERS (`refused`). */
  'login',
  /** A logout through `/logout` (cookie or bearer). */
  'logout',
  /** `/logout` with `all=true`: every other live session of the same user ended. */
  'logout_everywhere',
  /** `POST /refresh` renewed the API token (`success`) or found the login ended by the provider (`failure`). */
  'refresh',
  /** The provider's back-channel logout ended sessions. */
  'backchannel_logout',
  /** A user ended one of their own sessions (`DELETE /sessions/:id`). */
  'session_ended_by_owner',
  /** An administrator listed a user's sessions (`GET /admin/sessions`). */
  'admin_sessions_listed',
  /** An administrator ended a session (`DELETE /admin/sessions/:id`). */
  'session_ended_by_admin',
  /** An administrator ended every session of a user (`POST /admin/users/:sub/logout`). */
  'user_logged_out_by_admin',
  /** Someone who is not an administrator tried an administrative route. */
  'admin_refused',
  /** `POST /introspect` without valid client credentials. */
  'introspection_refused',
] as const;

export type AuditEvent = (typeof AUDIT_EVENTS)[number];

/** How the event ended; a small fixed set, so it can be a metrics label. */
export const AUDIT_OUTCOMES = ['success', 'refused', 'failure'] as const;

export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
