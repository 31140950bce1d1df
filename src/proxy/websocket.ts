import { ServerResponse, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Admitted } from './decide.js';
import type { SocketRegistry } from './registry.js';

export interface Upgrade {
  socket: Duplex;
  head: Buffer;
}

const upgrades = new WeakMap<IncomingMessage, Upgrade>();

/** The upgrade in progress of a request that came in through `routeUpgrades`, if any. */
export const upgradeOf = (raw: IncomingMessage): Upgrade | undefined => upgrades.get(raw);

/**
 * Sends upgrade requests through Fastify's router like any other request (hooks, rate limits, the error boundary),
 * with a response written on the socket: Keygate's own routes answer them as plain HTTP, and the proxy route takes
 * over the socket when the handshake is allowed. The socket is closed after any answer that is not an upgrade.
 */
export function routeUpgrades(app: FastifyInstance): void {
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrades.set(req, { socket, head });
    socket.on('error', () => socket.destroy());
    const res = new ServerResponse(req);
    res.assignSocket(socket as import('node:net').Socket);
    res.shouldKeepAlive = false;
    res.on('finish', () => {
      res.detachSocket(socket as import('node:net').Socket);
      socket.end();
    });
    app.routing(req, res);
  });
}

/** Close codes that may be sent in a close frame (RFC 6455 §7.4): others (1005, 1006, 1015…) become 1000. */
function sendable(code: number): number {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999) ? code : 1000;
}

/** A reason trimmed to the 123 bytes a close frame carries. */
function shortReason(reason: Buffer | string): string {
  const text = reason.toString();
  return Buffer.byteLength(text) <= 123 ? text : Buffer.from(text).subarray(0, 120).toString();
}

/** Handshake headers that the WebSocket client sets itself, and must not be copied from the client's handshake. */
const HANDSHAKE = ['host', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'sec-websocket-accept'];

export interface WebSocketDoor {
  /** Opens the upstream WebSocket, then completes the client's handshake and relays messages both ways. */
  open(request: FastifyRequest, reply: FastifyReply, admitted: Admitted, upgrade: Upgrade, headersFor: (headers: IncomingHttpHeaders) => IncomingHttpHeaders): FastifyReply;
  /** Cuts every socket, open or still in its handshake (server shutdown: upgraded sockets would keep it waiting). */
  closeAll(): void;
}

/**
 * WebSockets through the proxy, terminated on both sides with `ws` (so that Keygate can close a socket with a proper
 * close frame when its login ends, which a byte pipe could not do without cutting a frame in half). The upstream
 * socket is opened first: the client's handshake completes only when the upstream accepted its own.
 */
export function createWebSocketDoor(upstream: URL, timeoutMs: number, registry: SocketRegistry): WebSocketDoor {
  // No compression on either side: relayed messages are passed as they came, and compression costs memory per socket.
  // The client is offered exactly the subprotocol the upstream chose (kept per request until the handshake).
  const chosen = new WeakMap<IncomingMessage, string>();
  const server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (_offered, req) => chosen.get(req) || false,
  });

  // Every socket this door holds (public routes' too, which the registry does not track), for closeAll.
  const live = new Set<{ terminate(): void }>();
  const hold = (item: { terminate(): void }, ...emitters: Array<{ once(event: 'close', listener: () => void): unknown }>) => {
    live.add(item);
    for (const emitter of emitters) emitter.once('close', () => live.delete(item));
  };

  function refuse(socket: Duplex, status: number, text: string): void {
    if (!socket.writable) return void socket.destroy();
    const body = JSON.stringify({ error: status === 504 ? 'gateway_timeout' : 'bad_gateway', error_description: text });
    socket.end(`HTTP/1.1 ${status} ${status === 504 ? 'Gateway Timeout' : 'Bad Gateway'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  return {
    open(request, reply, admitted, upgrade, headersFor) {
      reply.hijack();
      const { socket, head } = upgrade;
      const target = new URL(admitted.allow.path + (request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : ''), upstream);
      target.protocol = upstream.protocol === 'https:' ? 'wss:' : 'ws:';
      const headers = headersFor(request.headers);
      for (const name of HANDSHAKE) delete headers[name];
      const protocols = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
      const outbound = new WebSocket(target, protocols, {
        headers: headers as Record<string, string>,
        perMessageDeflate: false,
        handshakeTimeout: timeoutMs,
        followRedirects: false,
      });
      let opened = false;
      hold({ terminate: () => { outbound.terminate(); socket.destroy(); } }, socket);
      const giveUp = () => outbound.terminate();
      socket.once('close', giveUp);

      outbound.once('unexpected-response', (_req, res) => {
        res.resume();
        refuse(socket, 502, `The upstream refused the WebSocket handshake with ${res.statusCode}.`);
        outbound.terminate();
      });
      outbound.on('error', (error) => {
        if (opened) return;
        const timedOut = /timeout|timed out/i.test(error.message);
        refuse(socket, timedOut ? 504 : 502, timedOut ? 'The upstream did not answer the WebSocket handshake in time.' : 'The upstream could not be reached.');
      });
      outbound.once('open', () => {
        opened = true;
        socket.off('close', giveUp);
        if (!socket.writable) return void outbound.terminate();
        chosen.set(request.raw, outbound.protocol);
        server.handleUpgrade(request.raw, socket, head, (client) => relay(client, outbound, admitted, registry));
      });
      return reply;
    },
    closeAll() {
      for (const item of [...live]) item.terminate();
      live.clear();
    },
  };
}

/** Bytes one side of a relayed WebSocket may have waiting to be written before the other side stops being read. */
const BUFFERED_LIMIT = 1024 * 1024;

function relay(client: WebSocket, outbound: WebSocket, admitted: Admitted, registry: SocketRegistry): void {
  // Flow control: while one side has more than BUFFERED_LIMIT waiting to be written, the other side is not read.
  const forward = (from: WebSocket, to: WebSocket) => (data: RawData, isBinary: boolean) => {
    if (to.readyState !== WebSocket.OPEN) return;
    to.send(data, { binary: isBinary }, () => {
      if (from.isPaused && to.bufferedAmount < BUFFERED_LIMIT) from.resume();
    });
    if (to.bufferedAmount >= BUFFERED_LIMIT) from.pause();
  };
  client.on('message', forward(client, outbound));
  outbound.on('message', forward(outbound, client));
  const closeOther = (other: WebSocket) => (code: number, reason: Buffer) => {
    forget();
    if (other.readyState === WebSocket.OPEN) other.close(sendable(code), shortReason(reason));
    else if (other.readyState === WebSocket.CONNECTING) other.terminate();
  };
  client.on('close', closeOther(outbound));
  outbound.on('close', closeOther(client));
  client.on('error', () => { forget(); client.terminate(); outbound.terminate(); });
  outbound.on('error', () => { forget(); client.terminate(); outbound.terminate(); });

  const { allow, recheck } = admitted;
  let forget = () => {};
  if (allow.auth !== undefined) {
    const key = allow.credential === 'cookie' ? `session:${recheck.sessionId}` : `token:${allow.auth.token.key}`;
    forget = registry.add(key, { method: 'GET', uri: recheck.uri, rawHeaders: recheck.rawHeaders, sessionId: recheck.sessionId }, {
      close(code, reason) {
        forget();
        if (client.readyState === WebSocket.OPEN) client.close(code, reason);
        if (outbound.readyState === WebSocket.OPEN) outbound.close(1000, reason);
        // A client that does not answer the close frame is cut off.
        setTimeout(() => { client.terminate(); outbound.terminate(); }, 1000).unref();
      },
    });
  }
}
