/**
 * The downstream listener: accepts client connections, runs each as a ClientConnection, sweeps their timeouts
 * on one timer, counts them, and drains them on shutdown.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ClientConnection, type ConnectionHandlers, type ConnectionLimits } from './connection.ts';

/** How often connection deadlines are checked: a client timeout fires up to this much late. */
const SWEEP_MS = 50;

export class DownstreamServer {
  private readonly server: net.Server;
  private readonly connections = new Set<ClientConnection>();
  private readonly sweeper: NodeJS.Timeout;
  private draining = false;

  constructor(limits: ConnectionLimits, handlers: ConnectionHandlers, onCount: (delta: 1 | -1) => void) {
    this.server = net.createServer({ noDelay: true }, (socket) => {
      const conn = new ClientConnection(socket, limits, handlers);
      if (this.draining) conn.drain();
      this.connections.add(conn);
      onCount(1);
      socket.once('close', () => {
        this.connections.delete(conn);
        onCount(-1);
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
