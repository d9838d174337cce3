/**
 * The downstream listener: accepts client connections (within the connection limits), runs each as a
 * ClientConnection, sweeps their timeouts on one timer, counts them, and drains them on shutdown.
 */
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { Admission, ConnectionGate } from '../limits/connections.ts';
import { ClientConnection, peerAddress, type ConnectionHandlers, type ConnectionLimits } from './connection.ts';

/** limits.max_connections and max_connections_per_ip, decided before a byte is read; and what it refuses. */
export interface AcceptGate {
  readonly gate: ConnectionGate;
  onRefused(why: Exclude<Admission, 'admitted'>): void;
}

function ignore(): void {}

/** How often connection deadlines are checked: a client timeout fires up to this much late. */
const SWEEP_MS = 50;

export class DownstreamServer {
  private readonly server: net.Server;
  private readonly connections = new Set<ClientConnection>();
  private readonly sweeper: NodeJS.Timeout;
  private draining = false;

  constructor(limits: ConnectionLimits, handlers: ConnectionHandlers, onCount: (delta: 1 | -1) => void, accept?: AcceptGate) {
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
    this.server = net.createServer({ noDelay: true }, (socket) => {
      if (accept === undefined) return serve(socket);
      const address = peerAddress(socket);
      const admission = accept.gate.admit(address);
      const decide = (a: Admission) => {
        // Refused: closed at once, nothing read or written (README, Limits: why not a 503).
        if (a !== 'admitted') {
          socket.destroy();
          return accept.onRefused(a);
        }
        // Gone, or the drain began, while the cluster's primary decided.
        if (socket.destroyed || this.draining) {
          socket.destroy();
          return accept.gate.release(address);
        }
        socket.once('close', () => accept.gate.release(address));
        serve(socket);
      };
      if (!(admission instanceof Promise)) return decide(admission);
      // A reset while the primary decides must not be an uncaught 'error' (ClientConnection listens from then on).
      socket.on('error', ignore);
      void admission.then((a) => {
        socket.off('error', ignore);
        decide(a);
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
