import type { Socket } from 'node:net';

/**
 * Answers requests that never reach a route because Node's HTTP parser refused them (headers over 16 kB → 431,
 * a malformed request line → 400, a slow client → 408) the way every other answer looks: the security headers and
 * an RFC 6750-style JSON body. Replaces Fastify's default, which sends neither.
 */
export function clientErrorHandler(headers: Record<string, string>): (error: NodeJS.ErrnoException, socket: Socket) => void {
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, reason, description] =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'The request took too long to arrive.']
      : error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'The request headers are larger than 16 kB.']
      : [400, 'Bad Request', 'The request is not valid HTTP.'];
    const body = JSON.stringify({ error: 'invalid_request', error_description: description });
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\n${extra}Connection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  };
}
