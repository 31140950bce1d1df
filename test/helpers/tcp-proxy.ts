/**
 * A loopback TCP proxy whose traffic can be held (a connection that stays open but carries nothing, like a silent
 * network partition) and released: the injected network fault for a stale connection.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  readonly #sockets = new Set<Socket>();
  #held = false;

  private constructor(readonly server: Server, readonly port: number) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      const upstream = connect({ host: '127.0.0.1', port: targetPort });
      for (const socket of [client, upstream]) {
        proxy!.#sockets.add(socket);
        socket.on('close', () => proxy!.#sockets.delete(socket));
        socket.on('error', () => {});
      }
      const pipe = (from: Socket, to: Socket) =>
        from.on('data', (chunk: Buffer) => {
          // Held: the bytes are dropped, as on a link that silently stopped carrying anything.
          if (!proxy!.#held) to.write(chunk);
        });
      pipe(client, upstream);
      pipe(upstream, client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  hold(): void {
    this.#held = true;
  }

  release(): void {
    this.#held = false;
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
