/**
 * One pino JSON line as a human line (pino-pretty style, without the dependency): time, level, message, then the
 * other fields as `key=value`, and an error's message and stack indented below. Redaction has already happened:
 * pino formats (and redacts) the line before any destination sees it.
 */

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<string, string> = { TRACE: '90', DEBUG: '90', INFO: '32', WARN: '33', ERROR: '31', FATAL: '31' };
/** pino's envelope: shown as time and level, or not at all (pid and hostname say nothing on one's own terminal). */
const ENVELOPE = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v', 'err']);
const MAX_VALUE = 200;

/**
 * Control characters (a newline, an ANSI escape) from a logged value must neither forge a line nor drive the
 * terminal: they are shown escaped, as JSON would.
 */
function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function show(value: unknown): string {
  const text = typeof value === 'string' && /^[\x21-\x7e]+$/.test(value) && !/["=]/.test(value) ? value : JSON.stringify(value) ?? String(value);
  const shown = escapeControls(text);
  return shown.length > MAX_VALUE ? `${shown.slice(0, MAX_VALUE)}…` : shown;
}

function errorLines(err: unknown): string {
  if (typeof err !== 'object' || err === null) return `    ${show(err)}\n`;
  const { type, message, stack } = err as { type?: unknown; message?: unknown; stack?: unknown };
  let out = `    ${escapeControls(String(type ?? 'Error'))}: ${escapeControls(String(message ?? ''))}\n`;
  if (typeof stack === 'string') {
    for (const line of stack.split('\n').slice(1)) if (line.trim() !== '') out += `    ${escapeControls(line.trim())}\n`;
  }
  return out;
}

/** The human form of one JSON log line (a line that is not a JSON object is passed on as it is). */
export function prettyLine(line: string, color = false): string {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return line.endsWith('\n') ? line : `${line}\n`;
  const record = entry as Record<string, unknown>;
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 23) : '--:--:--.---';
  const level = (typeof record.level === 'number' ? LEVELS[record.level] : undefined) ?? String(record.level ?? '?').toUpperCase();
  const shownLevel = level.padEnd(5);
  const fields = Object.entries(record)
    .filter(([key]) => !ENVELOPE.has(key))
    .map(([key, value]) => `${escapeControls(key)}=${show(value)}`);
  const message = escapeControls(typeof record.msg === 'string' ? record.msg : record.msg === undefined ? '' : JSON.stringify(record.msg));
  const head = color ? `\x1b[2m${time}\x1b[0m \x1b[${COLORS[level] ?? '0'}m${shownLevel}\x1b[0m` : `${time} ${shownLevel}`;
  let out = `${head} ${message}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}\n`;
  if (record.err !== undefined) out += errorLines(record.err);
  return out;
}
