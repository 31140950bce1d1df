import { invalidRequest } from '../errors.js';
import { isPublicSessionId } from './public-id.js';

/** The largest page a listing gives at once. */
export const MAX_PAGE_LIMIT = 500;

/** A position in a listing: the last session shown, by the listing's order (expiry, then public id). */
export interface PagePosition {
  /** The session's expiry, ms since the epoch. */
  expiresAt: number;
  publicId: string;
}

const PATTERN = /^1\.(\d{1,16})\.([A-Za-z0-9_-]{22})$/;

/**
 * The opaque cursor handed to clients. It names a position, not a session (the public id is already public), so a
 * forged cursor can only move the start of a listing the caller may read anyway; it never carries an internal id.
 */
export function encodeCursor(position: PagePosition): string {
  return Buffer.from(`1.${position.expiresAt}.${position.publicId}`).toString('base64url');
}

/** The position a cursor names; anything else (forged, truncated, out of range) is the client's 400. */
export function decodeCursor(cursor: string): PagePosition {
  const bad = () => invalidRequest('The cursor is not one this server gave out (use next_cursor from the previous page).');
  if (cursor.length === 0 || cursor.length > 64 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
  const match = PATTERN.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (match === null) throw bad();
  const expiresAt = Number(match[1]);
  // Within the range of a JavaScript date, so it fits a Redis score exactly.
  if (!Number.isSafeInteger(expiresAt) || expiresAt > 8.64e15 || !isPublicSessionId(match[2]!)) throw bad();
  return { expiresAt, publicId: match[2]! };
}

/** Checks a page size before any store work. */
export function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw invalidRequest(`The limit must be an integer from 1 to ${MAX_PAGE_LIMIT}.`);
  }
}

/** Whether `a` comes after `b` in listing order (expiry, then public id by code unit, as Redis orders equal scores). */
export function isAfter(a: PagePosition, b: PagePosition): boolean {
  if (a.expiresAt !== b.expiresAt) return a.expiresAt > b.expiresAt;
  return a.publicId > b.publicId;
}
