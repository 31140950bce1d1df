import { hostname } from 'node:os';
import pino from 'pino';
import type { ServerConfig } from '../config/types.js';
import { prettyLine } from './log-pretty.js';

/**
 * Where the server's log lines and its start banner go: ONE destination (stdout), so that the two are written in
 * the order they are made and each as whole lines — a banner can never be cut by a log line or the reverse.
 */
export interface LogOutput {
  /** `pretty` (human lines) or `json` (one JSON object a line): `LOG_FORMAT`, with `auto` resolved. */
  readonly format: 'pretty' | 'json';
  /** pino's destination (Fastify's `logger.stream`). */
  readonly stream: pino.DestinationStream;
  /** The start banner: its lines as they are in pretty format, one JSON line with `msg` and `fields` in JSON. */
  banner(message: string, fields: Record<string, string | readonly string[]>): void;
  /** Writes what is still buffered (before `process.exit`). */
  flush(): void;
}

export interface LogOutputOptions {
  format: ServerConfig['logFormat'];
  /** Whether stdout is a terminal (`auto` is pretty there; colours only there). */
  isTTY: boolean;
  /** File descriptor, default 1 (stdout). */
  fd?: number;
}

export function createLogOutput(options: LogOutputOptions): LogOutput {
  const format = options.format === 'auto' ? (options.isTTY ? 'pretty' : 'json') : options.format;
  // Asynchronous writes (flushed on exit): a flood of refused tokens is logged without blocking the event loop.
  const destination = pino.destination({ dest: options.fd ?? 1, sync: false });
  const color = options.isTTY;
  // pino hands a destination one complete line per call; the pretty form is written as one string too.
  const stream: pino.DestinationStream = format === 'json' ? destination : { write: (line: string) => void destination.write(prettyLine(line, color)) };
  return {
    format,
    stream,
    banner(message, fields) {
      if (format === 'json') {
        destination.write(`${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, hostname: hostname(), msg: message, ...fields })}\n`);
        return;
      }
      const width = Math.max(...Object.keys(fields).map((k) => k.length)) + 2;
      const lines = Object.entries(fields).map(([key, value]) => `  ${`${key}:`.padEnd(width)}${typeof value === 'string' ? value : value.join(', ')}`);
      destination.write(`${[message, ...lines].join('\n')}\n`);
    },
    flush() {
      try {
        destination.flushSync();
      } catch {
        // Not ready yet (nothing written) or stdout already closed: nothing to keep.
      }
    },
  };
}
