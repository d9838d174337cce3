/**
 * The downstream listener: accepts client connections, runs each as a ClientConnection (HTTP/1.1) or, on a listener
 * that takes h2c, as an HTTP/2 session when it opens with the HTTP/2 preface; sweeps their timeouts on one timer,
 * counts them, and drains them on shutdown.
 */
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { ClientConnection, type ConnectionHandlers, type ConnectionLimits } from './connection.ts';
import { readPreface } from './http2/preface.ts';
import { H2Endpoint, type H2Options } from './http2/server.ts';
import type { H2Events } from './http2/session.ts';

/** HTTP/2 on this listener: its settings, whether plain connections may speak it (h2c), and what it reports. */
export interface DownstreamHttp2 {
  readonly options: H2Options;
  /** Prior-knowledge h2c (RFC 9113 §3.3) on this plain listener, beside HTTP/1.1. */
  readonly h2c: boolean;
  readonly events: H2Events;
}

/** How often connection deadlines are checked: a client timeout fires up to this much late. */
const SWEEP_MS = 50;

export class DownstreamServer {
  private readonly server: net.Server;
  private readonly connections = new Set<ClientConnection>();
  /** HTTP/2 sessions, when this listener speaks HTTP/2. */
  private readonly h2: H2Endpoint | undefined;
  /** Connections whose first bytes are awaited to tell HTTP/2 from HTTP/1.1: closed by a drain, not served. */
  private readonly undecided = new Set<Socket>();
  private readonly sweeper: NodeJS.Timeout;
  private draining = false;

  constructor(limits: ConnectionLimits, handlers: ConnectionHandlers, onCount: (delta: 1 | -1) => void, http2?: DownstreamHttp2) {
    const h2 = (this.h2 = http2 === undefined ? undefined : new H2Endpoint(http2.options, handlers, http2.events));
    const serve = (socket: Socket) => {
      const conn = new ClientConnection(socket, limits, handlers);
      if (this.draining) conn.drain();
      this.connections.add(conn);
      socket.once('close', () => this.connections.delete(conn));
    };
    this.server = net.createServer({ noDelay: true }, (socket) => {
      onCount(1);
      socket.once('close', () => onCount(-1));
      if (h2 === undefined || !http2!.h2c) return serve(socket);
      this.undecided.add(socket);
      readPreface(socket, limits.headerTimeout, (isH2) => {
        this.undecided.delete(socket);
        if (isH2) h2.serve(socket);
        else {
          serve(socket);
          socket.resume(); // paused while deciding: a 'data' listener alone does not restart it
        }
      });
      socket.once('close', () => this.undecided.delete(socket));
    });
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const conn of this.connections) conn.checkDeadline(now);
      h2?.checkDeadline(now);
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
    for (const socket of this.undecided) socket.destroy();
    for (const conn of this.connections) conn.drain();
    this.h2?.drain();
    return closed;
  }

  get busy(): number {
    let n = this.h2?.busy ?? 0;
    for (const conn of this.connections) if (conn.busy) n++;
    return n;
  }

  /** Closes every connection now (a drain's deadline). */
  closeAll(): void {
    for (const conn of this.connections) conn.close();
    this.h2?.closeAll();
    clearInterval(this.sweeper);
  }

  stop(): void {
    clearInterval(this.sweeper);
  }
}
