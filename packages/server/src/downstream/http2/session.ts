/**
 * One client's HTTP/2 connection: hands each request stream to the pipeline as a ClientRequest/ClientResponse,
 * sweeps its streams' timeouts, and closes the connection of a client that resets streams faster than it could
 * mean to (the rapid reset attack, CVE-2023-44487).
 *
 * Streams are dispatched one turn of the event loop after they arrive: nghttp2 reads a whole socket read at once,
 * so a HEADERS frame and the RST_STREAM right behind it are both seen before the pipeline starts, and a stream
 * reset that way never reaches a backend. Each stream a client resets (before or after dispatch) counts against
 * `maxClientResets` per `resetWindow`; past it the connection gets GOAWAY ENHANCE_YOUR_CALM and is closed, as
 * nginx and Envoy do. nghttp2's own flood guards (SETTINGS, PING, CONTINUATION, invalid frames, refused streams)
 * and the header list limits are set where the sessions are created (server.ts).
 */
import { constants, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { FulcrumError } from '../../errors.ts';
import type { ConnectionHandlers } from '../connection.ts';
import { errorResponse } from '../error-response.ts';
import { H2Request, H2RequestBody, readHead } from './request.ts';
import { H2Response, type StreamOwner } from './response.ts';

export interface H2Limits {
  /** The field list's size as RFC 9113 §6.5.2 counts it; larger gets 431 (limits.max_header_size). */
  readonly maxHeaderSize: number;
  /** A connection with no stream open is closed after this long (limits.keepalive_timeout). */
  readonly keepaliveTimeout: number;
  /** A stream whose client takes none of its response for this long is reset (limits.send_timeout). */
  readonly sendTimeout: number;
  /** Streams a client may reset within `resetWindow` before its connection is closed. */
  readonly maxClientResets: number;
  readonly resetWindow: number;
}

/** Why Fulcrum closed a client's HTTP/2 connection: its own rule, or one of nghttp2's (a flood, a protocol error). */
export type H2Closure = 'rapid-reset' | 'session-error';

export interface H2Events {
  /** The connection was closed for what the client did; `detail`: nghttp2's message. */
  onClosed(why: H2Closure, client: string, detail: string | undefined): void;
}

interface Arrived {
  readonly stream: ServerHttp2Stream;
  readonly raw: readonly string[];
  readonly ended: boolean;
}

export class H2Session implements StreamOwner {
  private readonly session: ServerHttp2Session;
  private readonly limits: H2Limits;
  private readonly handlers: ConnectionHandlers;
  private readonly events: H2Events;
  private readonly remoteAddress: string;
  private readonly secure: boolean;
  /** Responses not over yet. */
  private readonly open = new Set<H2Response>();
  /** Streams arrived in this turn of the event loop, dispatched in the next (see above). */
  private arrived: Arrived[] = [];
  private resets = 0;
  private resetWindowStart = 0;
  /** Since when no stream is open (performance.now()). */
  private idleSince: number;
  /** Set once Fulcrum closes the connection: streams it cuts are not the client's resets. */
  private closing = false;

  constructor(session: ServerHttp2Session, limits: H2Limits, handlers: ConnectionHandlers, events: H2Events, secure: boolean) {
    this.session = session;
    this.limits = limits;
    this.handlers = handlers;
    this.events = events;
    this.secure = secure;
    const address = session.socket?.remoteAddress ?? '';
    this.remoteAddress = address.startsWith('::ffff:') ? address.slice(7) : address;
    this.idleSince = performance.now();
    session.on('stream', (stream: ServerHttp2Stream, _headers: unknown, flags: number, raw: string[]) => {
      stream.on('error', () => {}); // a reset or a session's end; 'close' follows and says what it meant
      if (this.arrived.length === 0) setImmediate(dispatch, this);
      this.arrived.push({ stream, raw, ended: (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0 });
    });
    session.on('error', (err: Error) => {
      // nghttp2 ended the session: a flood (SETTINGS, PING), too many CONTINUATION frames, a protocol error.
      if (!this.closing) this.events.onClosed('session-error', this.remoteAddress, err.message);
      this.closing = true;
    });
  }

  /** Whether a request is being served (for drains). */
  get busy(): boolean {
    return this.open.size > 0;
  }

  /** Called by the server's sweep: request bodies that stalled, clients that stopped reading, idle connections. */
  checkDeadline(now: number): void {
    if (this.open.size === 0) {
      if (this.arrived.length === 0 && now - this.idleSince >= this.limits.keepaliveTimeout) this.drain();
      return;
    }
    for (const res of this.open) {
      const body = res.body;
      if (body !== null && !body.done && !body.held && now >= body.deadline) {
        body.deadline = Infinity;
        if (body.onIdleTimeout !== undefined) body.onIdleTimeout();
        else res.destroy();
      }
      if (!res.stream.writableNeedDrain) res.stalledSince = undefined;
      else if (now - (res.stalledSince ??= now) >= this.limits.sendTimeout) res.destroy();
    }
  }

  /** GOAWAY: no new streams; those open finish, then the connection closes. */
  drain(): void {
    if (this.session.closed || this.session.destroyed) return;
    this.session.close();
  }

  /** Closes now (a drain's deadline): open streams are cut. */
  close(): void {
    this.closing = true;
    this.session.destroy();
  }

  dispatch(): void {
    const arrived = this.arrived;
    this.arrived = [];
    for (const { stream, raw, ended } of arrived) {
      // Reset in the same read as its HEADERS: it costs the backends nothing, and counts as a reset all the same.
      if (stream.closed || stream.destroyed) this.clientReset();
      else this.start(stream, raw, ended);
      if (this.closing) return;
    }
  }

  private start(stream: ServerHttp2Stream, raw: readonly string[], ended: boolean): void {
    const head = readHead(raw, ended, this.limits.maxHeaderSize);
    if (typeof head === 'string') {
      return this.refuse(stream, new FulcrumError(head === 'too-large' ? 'FUL_ERR_HEADERS_TOO_LARGE' : 'FUL_ERR_BAD_REQUEST'));
    }
    const body = head.framing.kind === 'none' ? null : new H2RequestBody(stream, head.expectContinue);
    const res = new H2Response(stream, this, head.method === 'HEAD', body);
    this.open.add(res);
    stream.once('close', () => this.streamClosed(res));
    try {
      this.handlers.onRequest(new H2Request(head, this.remoteAddress, body, this.secure), res);
    } catch (err) {
      // Not the client's fault, and it must not take the process down.
      this.handlers.onInternalError(err);
      res.destroy();
    }
    body?.startTimer(performance.now()); // after routing, which sets the body's timeout from its pool
  }

  /** A head refused before the pipeline (431, 400): answered here, counted like HTTP/1.1's refused heads. */
  private refuse(stream: ServerHttp2Stream, error: FulcrumError): void {
    this.handlers.onRejected(error);
    if (stream.closed) return;
    const { headers, body } = errorResponse(error);
    stream.respond([':status', String(error.status), ...headers]);
    stream.end(body);
  }

  /** The stream closed: a response not over yet was cut, by the client (a reset) or by the connection's end. */
  private streamClosed(res: H2Response): void {
    res.body?.cut();
    if (res.writableEnded || res.destroyed) return;
    res.destroyed = true;
    res.closed(true);
    this.clientReset();
  }

  responseDone(res: H2Response): void {
    this.open.delete(res);
    if (this.open.size === 0) this.idleSince = performance.now();
  }

  /** A stream the client reset before its response was over; past the budget the connection is closed. */
  private clientReset(): void {
    // Once nghttp2 ended the session (a protocol error), its streams close without their client resetting them.
    if (this.closing || this.session.destroyed) return;
    const now = performance.now();
    if (now - this.resetWindowStart >= this.limits.resetWindow) {
      this.resetWindowStart = now;
      this.resets = 0;
    }
    if (++this.resets <= this.limits.maxClientResets) return;
    this.closing = true;
    this.events.onClosed('rapid-reset', this.remoteAddress, undefined);
    this.session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    this.session.destroy();
  }
}

function dispatch(session: H2Session): void {
  session.dispatch();
}
