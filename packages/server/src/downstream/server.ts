/**
 * The downstream listener: accepts client connections (within the connection limits, then terminating TLS first on
 * a TLS listener), runs each as a
 * ClientConnection (HTTP/1.1) or as an HTTP/2 session (http2/) when the listener speaks HTTP/2 and the client chose
 * it (ALPN "h2" on TLS, the HTTP/2 preface on a plain listener with h2c), sweeps their timeouts on one timer,
 * counts them, and drains them on shutdown.
 */
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { alpnProtocols } from '../tls/alpn.ts';
import { terminate, type TlsRefusal, type TlsSource } from '../tls/terminator.ts';
import type { Admission, ConnectionGate } from '../limits/connections.ts';
import { ClientConnection, peerAddress, type ConnectionHandlers, type ConnectionLimits } from './connection.ts';
import { readPreface } from './http2/preface.ts';
import { H2Endpoint, type H2Options } from './http2/server.ts';
import type { H2Events } from './http2/session.ts';

/** A TLS listener's certificates, and what it tells of refused handshakes. */
export interface DownstreamTls {
  readonly source: TlsSource;
  onRefused?(why: TlsRefusal): void;
}

/** HTTP/2 on this listener (h2 by ALPN on a TLS one, h2c with prior knowledge on a plain one): its settings and reports. */
export interface DownstreamHttp2 {
  readonly options: H2Options;
  readonly events: H2Events;
}

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
  /** HTTP/2 sessions, when this listener speaks HTTP/2. */
  private readonly h2: H2Endpoint | undefined;
  /** Connections not handed to a codec yet (a TLS handshake, an h2c preface awaited): closed by a drain, not served. */
  private readonly pending = new Set<Socket>();
  private readonly sweeper: NodeJS.Timeout;
  private draining = false;

  constructor(
    limits: ConnectionLimits,
    handlers: ConnectionHandlers,
    onCount: (delta: 1 | -1) => void,
    tls?: DownstreamTls,
    http2?: DownstreamHttp2,
    gate?: AcceptGate,
  ) {
    const h2 = (this.h2 = http2 === undefined ? undefined : new H2Endpoint(http2.options, handlers, http2.events));
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
    const serveH2 = (socket: Socket) => {
      onCount(1);
      socket.once('close', () => onCount(-1));
      h2!.serve(socket);
    };
    /** Hands a connection to the codec of the protocol agreed by ALPN. */
    const onSecure = (socket: TLSSocket) => (h2 !== undefined && socket.alpnProtocol === 'h2' ? serveH2(socket) : serve(socket));
    const protocols = alpnProtocols(h2 !== undefined);
    const accept = (socket: Socket) => {
      if (tls === undefined && h2 === undefined) return serve(socket);
      if (this.draining) return void socket.destroy();
      this.pending.add(socket);
      socket.once('close', () => this.pending.delete(socket));
      if (tls === undefined) {
        return readPreface(socket, limits.headerTimeout, (isH2) => {
          this.pending.delete(socket);
          if (isH2) return serveH2(socket);
          serve(socket);
          socket.resume(); // paused while deciding: a 'data' listener alone does not restart it
        });
      }
      const secured = (secure: TLSSocket) => {
        this.pending.delete(socket);
        onSecure(secure);
      };
      terminate(socket, tls.source, limits.headerTimeout, protocols, secured, (why) => {
        this.pending.delete(socket);
        tls.onRefused?.(why);
      });
    };
    this.server = net.createServer({ noDelay: true }, (socket) => {
      if (gate === undefined) return accept(socket);
      const address = peerAddress(socket);
      const admission = gate.gate.admit(address);
      const decide = (a: Admission) => {
        // Refused: closed at once, nothing read or written, not even a TLS handshake (README, Limits: why not a 503).
        if (a !== 'admitted') {
          socket.destroy();
          return gate.onRefused(a);
        }
        // Gone, or the drain began, while the cluster's primary decided.
        if (socket.destroyed || this.draining) {
          socket.destroy();
          return gate.gate.release(address);
        }
        socket.once('close', () => gate.gate.release(address));
        accept(socket);
      };
      if (!(admission instanceof Promise)) return decide(admission);
      // A reset while the primary decides must not be an uncaught 'error' (the codec listens from then on).
      socket.on('error', ignore);
      void admission.then((a) => {
        socket.off('error', ignore);
        decide(a);
      });
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

  /** Stops accepting; idle connections close now, busy ones after their response (HTTP/2: GOAWAY, then the same). */
  stopAccepting(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.pending) socket.destroy();
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
