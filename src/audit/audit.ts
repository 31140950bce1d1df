import { isPublicSessionId, publicSessionId } from '../session/public-id.js';
import type { AuditEvent, AuditOutcome } from './events.js';

/** One audited event, as a route reports it. Nothing here may hold a token, a cookie value or a secret. */
export interface AuditEntry {
  event: AuditEvent;
  outcome: AuditOutcome;
  /** Who acted: a user's `sub`, an introspection client id, `provider` for a back-channel logout. */
  actor?: string;
  /** Whose login it concerns (a `sub`), when not the actor's own. */
  subject?: string;
  /**
   * The INTERNAL id of the session concerned (the store's key). The audit line carries only its public id
   * (`publicSessionId`), so a caller cannot leak the internal id by mistake.
   */
  sessionId?: string;
  /** A session id that is already public (from `/sessions/:id`); written as it is, after a shape check. */
  publicSessionId?: string;
  /** The client's address as Fastify sees it (`request.ip`, TRUST_PROXY applied). */
  clientAddress?: string;
  /** Small extra facts (counts, a reason code). Never a token, a secret or free text from the client. */
  detail?: Readonly<Record<string, string | number | boolean>>;
}

/** Writes audit events. The server's implementation writes a log line and counts the event. */
export interface Audit {
  emit(entry: AuditEntry): void;
}

/** The part of a logger (pino's, Fastify's `app.log`) the audit trail writes through. */
export interface AuditLogger {
  info(object: Record<string, unknown>, message: string): void;
}

/** The audit line's fields, in the documented names (docs/introspection-audit.md). */
export function auditRecord(entry: AuditEntry): Record<string, unknown> {
  const sessionId = entry.sessionId !== undefined
    ? publicSessionId(entry.sessionId)
    : entry.publicSessionId !== undefined && isPublicSessionId(entry.publicSessionId) ? entry.publicSessionId : undefined;
  const record: Record<string, unknown> = { audit: true, event: entry.event, outcome: entry.outcome };
  if (entry.actor !== undefined) record.actor = entry.actor;
  if (entry.subject !== undefined) record.subject = entry.subject;
  if (sessionId !== undefined) record.session_id = sessionId;
  if (entry.clientAddress !== undefined) record.client_address = entry.clientAddress;
  if (entry.detail !== undefined) record.detail = { ...entry.detail };
  return record;
}

/**
 * The audit trail over a logger and a counter. A failing logger or counter never fails the request that is being
 * audited (the answer has been decided; the log is the observer).
 */
export function createAudit(logger: AuditLogger, count: (event: AuditEvent, outcome: AuditOutcome) => void = () => {}): Audit {
  return {
    emit(entry) {
      try {
        count(entry.event, entry.outcome);
        logger.info(auditRecord(entry), `audit ${entry.event}`);
      } catch {
        // Deliberately swallowed: see above.
      }
    },
  };
}

/** An audit trail that writes nothing (library use, tests that do not look). */
export const silentAudit: Audit = { emit() {} };
