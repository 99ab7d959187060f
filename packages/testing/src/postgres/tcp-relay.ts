import { createServer, connect, type Server, type Socket } from 'node:net';
import { findFreePort } from '../redis/free-port.js';

/**
 * A TCP relay on a loopback port of its own, forwarding to `target`, that a test can close (every
 * connection cut, the port refusing — what a client sees when its database goes away) and open
 * again on the same port. Works in front of any server, whichever way it was provisioned.
 */
export class TcpRelay {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** Starts a relay to `target` on a free loopback port. */
  static async start(target: { host: string; port: number }): Promise<TcpRelay> {
    const relay = new TcpRelay(await findFreePort('127.0.0.1'), target);
    await relay.open();
    return relay;
  }

  /** `url` with its host and port replaced by the relay's. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** Listens again (a no-op while open). */
  async open(): Promise<void> {
    if (this.#server) return;
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
  }

  /** Cuts every connection and stops listening: the port refuses until {@link TcpRelay.open}. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
