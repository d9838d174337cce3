/**
 * Keep-alive connections to one backend: at most `maxConnections` open, idle ones reused last-in first-out (so
 * that a few stay warm and the rest time out), requests beyond the limit queued in order. A request is bound to
 * a connection when one is free; it is never moved to another (a failure comes back to the pipeline, which
 * decides about retries). A tunnel (an upgraded connection, which never comes back) holds a slot of its own
 * while it is open: it waits in the same queue, so that tunnels and requests together stay within the limit.
 */
import { FulcrumError } from '../../errors.ts';
import { Http1Connection, type ConnectionOwner, type Endpoint } from './connection.ts';
import type { ExchangeControl, ExchangeHandler, UpstreamRequest } from './types.ts';

export interface ClientOptions {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  readonly connectTimeout: number;
  readonly idleTimeout: number;
}

/** How often deadlines are checked: a timeout fires up to this much after it is due. */
export const SWEEP_MS = 20;

interface QueuedRequest {
  readonly request: UpstreamRequest;
  readonly handler: ExchangeHandler;
}

/** Told when a tunnel's slot is granted, or that it never will be. */
export interface SlotHolder {
  onGranted(): void;
  onError(error: FulcrumError): void;
}

type Waiting = QueuedRequest | SlotClaim;

export class Http1Client implements ConnectionOwner {
  private readonly endpoint: Endpoint;
  private readonly maxConnections: number;
  private readonly idle: Http1Connection[] = [];
  private readonly open = new Set<Http1Connection>();
  private readonly queue: Waiting[] = [];
  /** Slots held by tunnels, which dial their own sockets: each counts as an open connection. */
  private tunnels = 0;
  private closing = false;
  private sweeper: NodeJS.Timeout | undefined = undefined;

  constructor(options: ClientOptions) {
    this.endpoint = {
      host: options.host,
      port: options.port,
      connectTimeout: options.connectTimeout,
      idleTimeout: options.idleTimeout,
    };
    this.maxConnections = options.maxConnections;
  }

  /** Sends a request now on a free connection, or when one frees up. */
  dispatch(request: UpstreamRequest, handler: ExchangeHandler): void {
    if (this.closing) return handler.onError(new FulcrumError('FUL_ERR_BACKEND_RESET', { message: 'the connection pool was closed' }));
    const conn = this.idle.pop();
    if (conn !== undefined) return conn.assign(request, handler);
    if (this.hasRoom()) {
      const fresh = new Http1Connection(this.endpoint, this);
      this.open.add(fresh);
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
      return fresh.assign(request, handler);
    }
    const waiting: QueuedRequest = { request, handler };
    this.queue.push(waiting);
    handler.onStart(new QueuedControl(this, waiting));
  }

  /**
   * Claims a connection slot for a tunnel: granted now when one is free, else in turn with queued requests. When
   * idle keep-alive connections hold the slots, one of them closes to make room (its 'close' grants the claim).
   * The holder gives the slot back, or leaves the queue, with `release()` on the returned claim.
   */
  claimSlot(holder: SlotHolder): SlotClaim {
    const claim = new SlotClaim(this, holder);
    this.offer(claim);
    if (claim.state === 'waiting') this.idle.pop()?.close();
    return claim;
  }

  /** Requests waiting for a connection. */
  get pending(): number {
    return this.queue.length;
  }

  /** Connections open, tunnels included. */
  get connections(): number {
    return this.open.size + this.tunnels;
  }

  release(conn: Http1Connection): void {
    const next = this.queue[0];
    if (next !== undefined && !(next instanceof SlotClaim)) {
      this.queue.shift();
      return conn.assign(next.request, next.handler);
    }
    // Closing, or a tunnel waits for a slot: this connection gives up its own (its close grants the claim).
    if (this.closing || next !== undefined) return conn.close();
    this.idle.push(conn);
  }

  forget(conn: Http1Connection): void {
    if (!this.open.delete(conn)) return;
    if (this.open.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    this.serveNext();
  }

  /** A slot freed up: the first in the queue takes it (a request opens its connection, a tunnel its own). */
  private serveNext(): void {
    const next = this.queue.shift();
    if (next instanceof SlotClaim) this.offer(next);
    else if (next !== undefined) this.dispatch(next.request, next.handler);
  }

  /** A tunnel's slot came back. */
  slotReleased(): void {
    this.tunnels--;
    this.serveNext();
  }

  private hasRoom(): boolean {
    return this.open.size + this.tunnels < this.maxConnections;
  }

  private offer(claim: SlotClaim): void {
    if (this.closing) return claim.refuse(new FulcrumError('FUL_ERR_BACKEND_RESET', { message: 'the connection pool was closed' }));
    if (!this.hasRoom()) return void this.queue.push(claim);
    this.tunnels++;
    claim.grant();
  }

  private sweep(): void {
    const now = performance.now();
    for (const conn of this.open) conn.checkDeadline(now);
  }

  /** Removes a request still waiting in the queue; false when it already got a connection. */
  unqueue(waiting: Waiting): boolean {
    const i = this.queue.indexOf(waiting);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    return true;
  }

  /** Graceful: idle connections close now, busy ones once their response is complete. */
  close(): void {
    this.closing = true;
    for (const conn of [...this.open]) conn.close();
  }

  /** Immediate: every connection is destroyed, queued requests fail. */
  destroy(): void {
    this.closing = true;
    for (const w of this.queue.splice(0)) {
      const error = new FulcrumError('FUL_ERR_BACKEND_RESET', { message: 'the connection pool was destroyed' });
      if (w instanceof SlotClaim) w.refuse(error);
      else w.handler.onError(error);
    }
    for (const conn of [...this.open]) conn.abort(new FulcrumError('FUL_ERR_BACKEND_RESET', { message: 'the connection pool was destroyed' }));
  }
}

/** Control of a request still in the queue: aborting takes it out; pause/resume wait for a connection. */
class QueuedControl implements ExchangeControl {
  private readonly client: Http1Client;
  private readonly waiting: QueuedRequest;

  constructor(client: Http1Client, waiting: QueuedRequest) {
    this.client = client;
    this.waiting = waiting;
  }

  abort(reason: FulcrumError): void {
    if (this.client.unqueue(this.waiting)) this.waiting.handler.onError(reason);
  }
  pause(): void {}
  resume(): void {}
}

/** A tunnel's claim on a connection slot: waiting in the queue, held while the tunnel is open, then released. */
export class SlotClaim {
  state: 'waiting' | 'held' | 'released' = 'waiting';
  private readonly client: Http1Client;
  private readonly holder: SlotHolder;

  constructor(client: Http1Client, holder: SlotHolder) {
    this.client = client;
    this.holder = holder;
  }

  /** Gives the slot back (the tunnel closed), or leaves the queue (its client gave up); once. */
  release(): void {
    const was = this.state;
    this.state = 'released';
    if (was === 'held') this.client.slotReleased();
    else if (was === 'waiting') this.client.unqueue(this);
  }

  grant(): void {
    this.state = 'held';
    this.holder.onGranted();
  }

  refuse(error: FulcrumError): void {
    this.state = 'released';
    this.holder.onError(error);
  }
}
