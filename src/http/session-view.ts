import { publicSessionId } from '../session/public-id.js';
import type { Session } from '../session/store.js';

/** A session as its owner sees it: never the internal id, never a token. */
export interface SessionView {
  id: string;
  created_at: string;
  /** The login counts as the first use; null when TRACK_LAST_USED is off and nothing was recorded. */
  last_used_at: string | null;
  user_agent: string | null;
  client_address: string | null;
  current: boolean;
}

/** A session as an administrator sees it: whose it is, and when it ends. */
export interface AdminSessionView extends SessionView {
  sub: string;
  email: string | null;
  expires_at: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function sessionView(session: Session, current: Session | undefined, tracking: boolean): SessionView {
  const lastUsed = session.lastUsedAt ?? (tracking ? session.createdAt : undefined);
  return {
    id: publicSessionId(session.id),
    created_at: iso(session.createdAt),
    last_used_at: lastUsed === undefined ? null : iso(lastUsed),
    user_agent: session.userAgent ?? null,
    client_address: session.clientAddress ?? null,
    current: current !== undefined && current.id === session.id,
  };
}

export function adminSessionView(session: Session, current: Session | undefined, tracking: boolean): AdminSessionView {
  return { ...sessionView(session, current, tracking), sub: session.sub, email: session.email ?? null, expires_at: iso(session.expiresAt) };
}
