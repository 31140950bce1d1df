import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface WsEchoServer {
  address: string;
  port: number;
  /** Handshakes received (URL and headers), in order. */
  handshakes: Array<{ url: string; headers: IncomingHttpHeaders }>;
  /** Close codes the upstream side saw, in order. */
  closes: number[];
  /** Sockets open right now on the upstream side. */
  readonly open: number;
  /** Bytes the upstream has queued and not yet written to its sockets (a reader that does not read makes it grow). */
  buffered(): number;
  close(): Promise<void>;
}

/**
 * A real WebSocket upstream (`ws`) on loopback for proxy tests: records each handshake, echoes every message, and
 * chooses the `echo` subprotocol when it is offered. Plain HTTP requests get 200 `{"upstream":true}`.
 */
export async function startWsEcho(): Promise<WsEchoServer> {
  const handshakes: WsEchoServer['handshakes'] = [];
  const closes: number[] = [];
  const sockets = new Set<WebSocket>();
  const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"upstream":true}'));
  const wss = new WebSocketServer({ server, handleProtocols: (offered) => (offered.has('echo') ? 'echo' : false) });
  wss.on('connection', (socket, req) => {
    handshakes.push({ url: req.url ?? '', headers: req.headers });
    sockets.add(socket);
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    socket.on('close', (code) => {
      sockets.delete(socket);
      closes.push(code);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    handshakes,
    closes,
    get open() {
      return sockets.size;
    },
    buffered: () => [...sockets].reduce((sum, socket) => sum + socket.bufferedAmount, 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
