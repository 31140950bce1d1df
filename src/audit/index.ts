/** The audit trail: framework-free; the server wires it to its pino logger and `/metrics`. */
export { AUDIT_EVENTS, AUDIT_OUTCOMES, type AuditEvent, type AuditOutcome } from './events.js';
export { auditRecord, createAudit, silentAudit, type Audit, type AuditEntry, type AuditLogger } from './audit.js';
