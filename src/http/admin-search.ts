import { encodeCursor, MAX_PAGE_LIMIT } from '../session/cursor.js';
import { publicSessionId } from '../session/public-id.js';
import type { Session, SessionPage, SessionStore } from '../session/store.js';

/** Most sessions one search by e-mail reads before it answers (with a cursor to go on from). */
export const EMAIL_SCAN_BUDGET = 5_000;

/**
 * One page of the sessions whose e-mail is `email` (case-insensitive). The store indexes sessions by subject, not
 * by e-mail, so this walks the listing of every session in the store's order and keeps the matches: a request reads
 * at most `budget` sessions, and may answer fewer than `limit` (even none) with a cursor when the walk is not over.
 */
export async function pageByEmail(store: SessionStore, email: string, limit: number, cursor: string | undefined, budget = EMAIL_SCAN_BUDGET): Promise<SessionPage> {
  const wanted = email.toLowerCase();
  const found: Session[] = [];
  let read = 0;
  let next = cursor;
  do {
    const page = await store.listPage({ limit: MAX_PAGE_LIMIT, ...(next !== undefined ? { cursor: next } : {}) });
    for (const session of page.sessions) {
      read++;
      if (session.email?.toLowerCase() !== wanted) continue;
      found.push(session);
      if (found.length === limit) {
        // Stop at this session: the next page starts right after it.
        const last = page.sessions.at(-1);
        const more = page.cursor !== undefined || last !== session;
        return { sessions: found, ...(more ? { cursor: encodeCursor({ expiresAt: session.expiresAt, publicId: publicSessionId(session.id) }) } : {}) };
      }
    }
    next = page.cursor;
  } while (next !== undefined && read < budget);
  return { sessions: found, ...(next !== undefined ? { cursor: next } : {}) };
}
