/**
 * Keep-alive connections to one backend: at most `maxConnections` open, idle ones reused last-in first-out (so
 * that a few stay warm and the rest time out), requests beyond the limit queued in order. A request is bound to
 * a connection when one is free; it is never moved to another (a failure comes back to the pipeline, which
 * decides about retries).
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

interface Waiting {
  readonly request: UpstreamRequest;
  readonly handler: ExchangeHandler;
}

export class Http1Client implements ConnectionOwner {
  private readonly endpoint: Endpoint;
  private readonly maxConnections: number;
  private readonly idle: Http1Connection[] = [];
  private readonly open = new Set<Http1Connection>();
  private readonly queue: Waiting[] = [];
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
    if (this.open.size < this.maxConnections) {
      const fresh = new Http1Connection(this.endpoint, this);
      this.open.add(fresh);
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
      return fresh.assign(request, handler);
    }
    const waiting: Waiting = { request, handler };
    this.queue.push(waiting);
    handler.onStart(new QueuedControl(this, waiting));
  }

  /** Requests waiting for a connection. */
  get pending(): number {
    return this.queue.length;
  }

  get connections(): number {
    return this.open.size;
  }

  release(conn: Http1Connection): void {
    const next = this.queue.shift();
    if (next !== undefined) return conn.assign(next.request, next.handler);
    if (this.closing) return conn.close();
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
    // A slot freed up: a queued request may now open its own connection.
    const next = this.queue.shift();
    if (next !== undefined) this.dispatch(next.request, next.handler);
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
    for (const w of this.queue.splice(0)) w.handler.onError(new FulcrumError('FUL_ERR_BACKEND_RESET', { message: 'the connection pool was destroyed' }));
    for (const conn of [...this.open]) conn.abort(new FulcrumError('FUL_ERR_BACKEND_RESET', { message: 'the connection pool was destroyed' }));
  }
}

/** Control of a request still in the queue: aborting takes it out; pause/resume wait for a connection. */
class QueuedControl implements ExchangeControl {
  private readonly client: Http1Client;
  private readonly waiting: Waiting;

  constructor(client: Http1Client, waiting: Waiting) {
    this.client = client;
    this.waiting = waiting;
  }

  abort(reason: FulcrumError): void {
    if (this.client.unqueue(this.waiting)) this.waiting.handler.onError(reason);
  }
  pause(): void {}
  resume(): void {}
}
