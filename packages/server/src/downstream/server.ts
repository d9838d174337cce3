/**
 * The downstream listener: accepts client connections (terminating TLS first on a TLS listener), runs each as a
 * ClientConnection, sweeps their timeouts on one timer, counts them, and drains them on shutdown.
 */
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { terminate, type TlsRefusal, type TlsSource } from '../tls/terminator.ts';
import { ClientConnection, type ConnectionHandlers, type ConnectionLimits } from './connection.ts';

/** A TLS listener's certificates, and what it tells of refused handshakes. */
export interface DownstreamTls {
  readonly source: TlsSource;
  onRefused?(why: TlsRefusal): void;
}

/** How often connection deadlines are checked: a client timeout fires up to this much late. */
const SWEEP_MS = 50;

export class DownstreamServer {
  private readonly server: net.Server;
  private readonly connections = new Set<ClientConnection>();
  /** TLS connections still in their handshake: closed by a drain, not served. */
  private readonly handshaking = new Set<Socket>();
  private readonly sweeper: NodeJS.Timeout;
  private draining = false;

  constructor(limits: ConnectionLimits, handlers: ConnectionHandlers, onCount: (delta: 1 | -1) => void, tls?: DownstreamTls) {
    const serve = (socket: Socket) => {
      const conn = new ClientConnection(socket, limits, handlers);
      if (this.draining) conn.drain();
      this.connections.add(conn);
      onCount(1);
      socket.once('close', () => {
        this.connections.delete(conn);
        onCount(-1);
      });
    };
    /** Hands a connection to the codec of the protocol agreed by ALPN (h2 joins here: tls/alpn.ts). */
    const onSecure = (socket: TLSSocket) => serve(socket);
    this.server = net.createServer({ noDelay: true }, (socket) => {
      if (tls === undefined) return serve(socket);
      if (this.draining) return void socket.destroy();
      this.handshaking.add(socket);
      socket.once('close', () => this.handshaking.delete(socket));
      const secured = (secure: TLSSocket) => {
        this.handshaking.delete(socket);
        onSecure(secure);
      };
      terminate(socket, tls.source, limits.headerTimeout, secured, (why) => {
        this.handshaking.delete(socket);
        tls.onRefused?.(why);
      });
    });
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const conn of this.connections) conn.checkDeadline(now);
    }, SWEEP_MS).unref();
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops accepting; idle connections close now, busy ones after their response. */
  stopAccepting(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.handshaking) socket.destroy();
    for (const conn of this.connections) conn.drain();
    return closed;
  }

  get busy(): number {
    let n = 0;
    for (const conn of this.connections) if (conn.busy) n++;
    return n;
  }

  /** Closes every connection now (a drain's deadline). */
  closeAll(): void {
    for (const conn of this.connections) conn.close();
    clearInterval(this.sweeper);
  }

  stop(): void {
    clearInterval(this.sweeper);
  }
}
