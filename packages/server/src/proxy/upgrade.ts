/**
 * Upgrade requests (WebSocket and others), routed and balanced like any request (hash key and sticky cookie
 * included). Each takes one of its backend's max_connections for as long as it lasts: beyond them it waits in
 * the pool's queue (within max_pending, for at most the connect timeout) or gets 503 FUL_ERR_CIRCUIT_OPEN, as
 * HAProxy's maxconn/maxqueue and Envoy's circuit breakers treat an upgrade: one more connection to the backend.
 *
 * The request head goes to a connection of its own. Only a 101 answer joins the two sockets into a tunnel
 * (RFC 9110 §7.8); any other answer is an ordinary response, forwarded with its own framing and hop-by-hop fields
 * dropped, after which the client connection reads requests again (what the client sent meanwhile waited there),
 * and the backend connection is closed, never reused. A tunnel counts as one request in flight on its backend
 * until either side closes.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import type { UpgradeHandoff } from '../downstream/connection.ts';
import type { DownstreamRequest } from '../downstream/request.ts';
import type { DownstreamResponse, ResponseListener } from '../downstream/response.ts';
import { connectFailure, FulcrumError, type ErrorCode } from '../errors.ts';
import { ResponseParseError, type ResponseHead } from '../http1/response-parser.ts';
import type { SlotClaim, SlotHolder } from '../upstream/http1/client.ts';
import type { Pool } from '../upstream/pool.ts';
import { downstreamHeaders, newRequestId, scanRequestHead, upstreamHeaders, type ScannedHead } from './forwarding.ts';
import { Refused } from '../uri.ts';
import { writeErrorResponse } from '../downstream/error-response.ts';
import type { TrafficStats } from '../observability/stats.ts';
import { startAttempt, type Attempt, type AttemptDeps } from './attempt.ts';
import type { ProxyRuntime } from './runtime.ts';
import { UpgradeAnswer, type AnswerEvents } from './upgrade-answer.ts';

interface Deps extends AttemptDeps {
  readonly log: Logger;
  readonly stats: TrafficStats;
}

export class UpgradeProxy {
  /** Upgrades under way and open tunnels, so that a drain can wait for them and its deadline can end them. */
  readonly tunnels = new Set<Upgrade>();
  /** Where the current runtime is read (a reload replaces it): the pipeline. */
  readonly source: { readonly runtime: ProxyRuntime };
  readonly deps: Deps;

  constructor(source: { readonly runtime: ProxyRuntime }, deps: Deps) {
    this.source = source;
    this.deps = deps;
  }

  handle(req: DownstreamRequest, res: DownstreamResponse, handoff: UpgradeHandoff): void {
    new Upgrade(this, req, res, handoff).start();
  }
}

/**
 * queued: waiting for a connection slot. connecting, answering: the backend's connection opens, then answers.
 * responding: a refusal (not 101) goes down as a response. tunnel: the sockets are joined. done: all released.
 */
type Phase = 'routing' | 'queued' | 'connecting' | 'answering' | 'responding' | 'tunnel' | 'done';

/** One Upgrade request, from routing to the end of its tunnel or of the response that refused it. */
class Upgrade implements ResponseListener, SlotHolder, AnswerEvents {
  private readonly proxy: UpgradeProxy;
  private readonly req: DownstreamRequest;
  private readonly res: DownstreamResponse;
  private readonly handoff: UpgradeHandoff;
  private readonly log: Logger;
  private readonly startedAt: number;
  private phase: Phase = 'routing';
  private requestId = '';
  private pool: Pool | undefined = undefined;
  /** The try on the backend picked, counted from the pick to the end of the tunnel or of the refusal. */
  private attempt: Attempt | undefined = undefined;
  private claim: SlotClaim | undefined = undefined;
  private queueTimer: NodeJS.Timeout | undefined = undefined;
  private lines = '';
  private upstream: net.Socket | undefined = undefined;
  private socketError: Error | undefined = undefined;
  private client: net.Socket | undefined = undefined;
  private readonly answer: UpgradeAnswer;
  private status = 0;
  /** Reading from the backend is paused until the client takes what was written. */
  private paused = false;

  constructor(proxy: UpgradeProxy, req: DownstreamRequest, res: DownstreamResponse, handoff: UpgradeHandoff) {
    this.proxy = proxy;
    this.req = req;
    this.res = res;
    this.handoff = handoff;
    this.log = proxy.deps.log;
    this.startedAt = proxy.deps.clock.now();
    this.answer = new UpgradeAnswer(this, req.method === 'HEAD');
  }

  /** Routes, picks a backend within the circuit breaker, and claims a connection slot on it. */
  start(): void {
    this.res.listener = this;
    this.proxy.tunnels.add(this);
    const runtime = this.proxy.source.runtime;
    const head = scanRequestHead(this.req.method, this.req.url, this.req.rawHeaders);
    if (head instanceof Refused) {
      this.requestId = newRequestId();
      return this.fail(new FulcrumError('FUL_ERR_BAD_REQUEST', { message: head.reason }));
    }
    this.requestId = head.requestId ?? newRequestId();
    const pool = runtime.route(this.req, head)?.pool;
    if (pool === undefined) return this.fail(new FulcrumError('FUL_ERR_NO_ROUTE'));
    this.pool = pool;
    const clientIp = this.req.remoteAddress;
    const key = pool.balancer.keyOf?.({ clientIp, path: head.path, header: (name) => this.req.header(name) });
    const attempt = startAttempt(pool, { key }, this.proxy.deps);
    if (attempt instanceof FulcrumError) return this.fail(attempt);
    this.attempt = attempt;
    this.lines = this.requestHead(head, attempt);
    this.phase = 'queued';
    this.claim = pool.clientOf(attempt.backend).claimSlot(this);
    // HAProxy's `timeout queue` defaults to its connect timeout: a tunnel may hold its slot for hours.
    if (this.phase === 'queued') this.queueTimer = setTimeout(() => this.queueTimedOut(), pool.config.timeouts.connect);
  }

  /** Ends it now (a drain's deadline): the tunnel, or the client connection while the backend has not answered. */
  destroy(): void {
    if (this.client !== undefined) this.client.destroy();
    else this.res.destroy();
    this.upstream?.destroy();
  }

  // SlotHolder
  onGranted(): void {
    clearTimeout(this.queueTimer);
    this.attempt?.leaveQueue();
    if (this.phase === 'queued') this.connect();
  }

  onError(error: FulcrumError): void {
    this.fail(error);
  }

  // ResponseListener: the client connection closed, or the refusal was written.
  responseClosed(aborted: boolean): void {
    if (aborted && this.phase !== 'tunnel') this.finish(499, 'FUL_ERR_CLIENT_ABORTED', 'success');
  }

  // AnswerEvents
  onSwitch(headers: string[], rest: Buffer): void {
    const taken = this.handoff.tunnel();
    if (taken === undefined) return this.finish(499, 'FUL_ERR_CLIENT_ABORTED', 'success');
    this.phase = 'tunnel';
    this.status = 101;
    this.attempt?.answered();
    this.client = taken.socket;
    const out = downstreamHeaders(headers, 101, -1);
    out.push('connection', 'upgrade', 'upgrade', fieldValue(headers, 'upgrade') ?? '', 'x-request-id', this.requestId);
    let head = 'HTTP/1.1 101 Switching Protocols\r\n';
    for (let i = 0; i < out.length; i += 2) head += `${out[i]}: ${out[i + 1]}\r\n`;
    this.client.write(`${head}\r\n`, 'latin1');
    if (rest.length > 0) this.client.write(rest);
    if (taken.head.length > 0) this.upstream!.write(taken.head);
    this.join(this.client, this.upstream!);
  }

  onHead(head: ResponseHead): void {
    this.phase = 'responding';
    this.status = head.status;
    this.upstream!.setTimeout(this.pool!.config.timeouts.idle);
    const headers = downstreamHeaders(head.headers, head.status, head.contentLength);
    headers.push('x-request-id', this.requestId);
    this.res.writeHead(head.status, headers);
  }

  onBody(chunk: Buffer, last: boolean): void {
    if (last) return void this.res.end(chunk);
    if (this.res.write(chunk) || this.paused) return;
    this.paused = true;
    this.upstream!.pause();
    this.res.onDrain(() => {
      this.paused = false;
      this.upstream?.resume();
    });
  }

  /** The request head for the backend: forwarding fields as for any request, Connection and Upgrade kept. */
  private requestHead(head: ScannedHead, attempt: Attempt): string {
    const runtime = this.proxy.source.runtime;
    const clientIp = this.req.remoteAddress;
    const forwarded = upstreamHeaders(this.req.rawHeaders, head, { clientIp, trusted: runtime.isTrusted(clientIp), requestId: this.requestId, secure: this.req.secure });
    // Upgrade and Connection are hop-by-hop, but here they are the point: the backend must see them.
    forwarded.push('connection', 'upgrade', 'upgrade', head.upgrade ?? '');
    const headers = attempt.headersFor(head, forwarded);
    let lines = `${this.req.method} ${head.target} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) lines += `${headers[i]}: ${headers[i + 1]}\r\n`;
    return `${lines}\r\n`;
  }

  private queueTimedOut(): void {
    this.fail(new FulcrumError('FUL_ERR_CIRCUIT_OPEN', { message: 'no connection to the backend freed up in time' }));
  }

  private connect(): void {
    const { backend, pool } = this.attempt!;
    const { connect, response } = pool.config.timeouts;
    this.phase = 'connecting';
    const upstream = net.connect({ host: backend.host, port: backend.port, noDelay: true });
    this.upstream = upstream;
    upstream.setTimeout(connect);
    upstream.once('connect', () => {
      this.phase = 'answering';
      upstream.setTimeout(response);
      upstream.write(this.lines, 'latin1');
    });
    upstream.on('data', this.onUpstreamData);
    upstream.on('timeout', () => this.upstreamTimedOut());
    upstream.on('error', (err) => (this.socketError = err));
    upstream.on('close', () => this.upstreamClosed());
  }

  private readonly onUpstreamData = (data: Buffer): void => {
    let complete: boolean;
    try {
      complete = this.answer.execute(data);
    } catch (err) {
      // A handler that throws must cost this upgrade, never the process.
      return this.fail(new FulcrumError(err instanceof ResponseParseError ? 'FUL_ERR_BAD_RESPONSE' : 'FUL_ERR_INTERNAL', { cause: err }));
    }
    if (complete) this.responded();
  };

  /** The refusal went down whole. */
  private responded(): void {
    if (!this.res.writableEnded) this.res.end();
    // RFC 9110 §15.6: a 5xx says the backend could not serve; passive health counts it as a failure.
    this.finish(this.status, undefined, this.status >= 500 ? 'failure' : 'success');
  }

  private upstreamTimedOut(): void {
    if (this.phase === 'connecting') return this.fail(new FulcrumError('FUL_ERR_CONNECT_TIMEOUT'));
    if (this.phase === 'answering') return this.fail(new FulcrumError('FUL_ERR_RESPONSE_TIMEOUT'));
    if (this.phase === 'responding') return this.fail(new FulcrumError('FUL_ERR_RESPONSE_TIMEOUT', { message: 'the backend stalled mid-body' }));
    this.destroy(); // an idle tunnel
  }

  private upstreamClosed(): void {
    switch (this.phase) {
      case 'connecting':
        return this.fail(connectFailure(this.socketError));
      case 'answering':
        return this.fail(new FulcrumError('FUL_ERR_BACKEND_RESET', { cause: this.socketError }));
      case 'responding':
        if (this.socketError === undefined && this.answer.finish()) return this.responded();
        return this.fail(new FulcrumError('FUL_ERR_BACKEND_RESET', { cause: this.socketError, message: 'the backend closed the connection mid-body' }));
      case 'tunnel':
        this.client!.destroy();
        return this.finish(101, undefined, 'success');
    }
  }

  /** Joins the sockets; either side's end, error or idleness ends both. */
  private join(client: net.Socket, upstream: net.Socket): void {
    const idle = this.pool!.config.timeouts.idle;
    upstream.off('data', this.onUpstreamData);
    upstream.setTimeout(idle);
    client.setTimeout(idle);
    client.on('timeout', () => this.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.pipe(client);
    client.pipe(upstream);
  }

  /** The one place an upgrade's error becomes a response (the pipeline's failToProxy, for upgrades). */
  private fail(error: FulcrumError): void {
    if (this.phase === 'done') return;
    this.log.warn({ reqId: this.requestId, code: error.code, url: this.req.url }, `upgrade failed: ${error.message}`);
    this.finish(error.status, error.code, error.source === 'backend' ? 'failure' : 'success');
    const { res } = this;
    if (res.writableEnded || res.destroyed) return;
    if (res.headersSent) return res.destroy(); // too late for a status: the client sees the response cut
    writeErrorResponse(res, error, this.requestId);
  }

  /** Releases everything once: the backend's slot and count, the queue, the timers; records the outcome. */
  private finish(status: number, code: ErrorCode | undefined, outcome: 'success' | 'failure'): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    clearTimeout(this.queueTimer);
    this.proxy.tunnels.delete(this);
    this.upstream?.destroy(); // a refused upgrade's connection is not reused: it was opened for a tunnel
    const { stats, clock } = this.proxy.deps;
    stats.record(this.pool?.name ?? '-', this.attempt?.backend.id, status, clock.now() - this.startedAt, code);
    this.attempt?.end(outcome);
    this.claim?.release();
  }
}

/** A field's value by lower-case name, or undefined. */
function fieldValue(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  return undefined;
}
