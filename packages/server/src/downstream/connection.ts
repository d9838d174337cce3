/**
 * One client connection: reads request heads (strictly: http1/request-parser.ts), hands each request to the
 * pipeline with its body as a stream, and serves requests one at a time in order (pipelined requests wait
 * their turn, so responses cannot cross). An Upgrade leaves for the tunnel only once its backend switched protocols.
 * Malformed input is answered 4xx and the connection closed; nothing a client sends can throw out of here.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { BodyDecoder } from '../http1/body-decoder.ts';
import { Http1ParseError } from '../http1/errors.ts';
import { HeadReader } from '../http1/head-reader.ts';
import { parseRequestHead, UnsupportedExpectation, type RequestHead } from '../http1/request-parser.ts';
import { FulcrumError } from '../errors.ts';
import { DownstreamRequest, RequestBody } from './request.ts';
import { DownstreamResponse, type ResponseOwner } from './response.ts';
import { errorResponse } from './error-response.ts';

export interface ConnectionLimits {
  readonly maxHeaderSize: number;
  readonly headerTimeout: number;
  readonly keepaliveTimeout: number;
  /** How long the client may leave the response unread (the socket's buffer full) before it is disconnected. */
  readonly sendTimeout: number;
  /** Connections of a TLS listener: their requests are marked secure. */
  readonly secure?: boolean;
}

export interface ConnectionHandlers {
  onRequest(req: DownstreamRequest, res: DownstreamResponse): void;
  /**
   * An Upgrade request (RFC 9110 §7.8), served like any request until its backend answers: what the client sends
   * meanwhile waits. Any answer but 101 is written to `res` as an ordinary response, after which the connection
   * reads requests again; a 101 takes the socket with `handoff.tunnel()`.
   */
  onUpgrade(req: DownstreamRequest, res: DownstreamResponse, handoff: UpgradeHandoff): void;
  /** A request refused before the pipeline saw it (400, 408, 417, 431), for the statistics. */
  onRejected(error: FulcrumError): void;
  /** A bug in this module: logged; the connection is closed. */
  onInternalError(err: unknown): void;
}

/** How the tunnel takes the client's socket, once the backend has switched protocols (101) and only then. */
export interface UpgradeHandoff {
  /**
   * The socket leaves this connection with the bytes the client sent after the request head (the tunnel's first
   * bytes); the connection ignores it from then on. Undefined when the client has gone. Only before `res` is written.
   */
  tunnel(): { socket: Socket; head: Buffer } | undefined;
}

/**
 * After an early response, a body still arriving is read and dropped up to this much and for this long at most
 * (nginx's lingering_time), each pause bounded by the body timeout; then the connection closes.
 */
const DISCARD_LIMIT = 1024 * 1024;
const LINGER_MS = 30_000;

/** idle: between requests; head: a head is arriving; request: one is being served; upgraded: the tunnel's now. */
type State = 'idle' | 'head' | 'request' | 'upgraded' | 'closed';

export class ClientConnection implements ResponseOwner {
  private readonly socket: Socket;
  private readonly limits: ConnectionLimits;
  private readonly handlers: ConnectionHandlers;
  private readonly remoteAddress: string;
  private readonly heads: HeadReader;
  private readonly bodyDecoder = new BodyDecoder();
  private state: State = 'idle';
  /** When the current wait (a head to start or to finish) runs out, on performance.now()'s clock. */
  private deadline: number;
  private res: DownstreamResponse | undefined = undefined;
  private body: RequestBody | null = null;
  /** The request's body has been read whole (or it had none). */
  private bodyDone = true;
  private bodyPaused = false;
  private expectContinue = false;
  /** Bytes of the next pipelined request, kept until the current response is over. */
  private queued: Buffer | undefined = undefined;
  private discarded = -1;
  /** While the client's body is awaited: when its current pause runs out; Infinity while Fulcrum holds it back. */
  private bodyDeadline = Infinity;
  /** While an unread body is dropped after an early answer: when the dropping stops, however the client sends. */
  private lingerUntil = Infinity;
  /** A pipelined request waits for the client to take the responses before it (its socket buffer drains). */
  private waitingForDrain = false;
  /** Since when the client has taken nothing of a response whose socket buffer is full; undefined while it reads. */
  private sendStalledSince: number | undefined = undefined;
  draining = false;

  constructor(socket: Socket, limits: ConnectionLimits, handlers: ConnectionHandlers) {
    this.socket = socket;
    this.limits = limits;
    this.handlers = handlers;
    this.heads = new HeadReader(limits.maxHeaderSize);
    const address = socket.remoteAddress ?? '';
    this.remoteAddress = address.startsWith('::ffff:') ? address.slice(7) : address;
    this.deadline = performance.now() + limits.headerTimeout;
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', () => {}); // 'close' follows; nothing to add
    socket.on('close', () => this.onClose());
    socket.on('end', () => this.onEnd());
    socket.on('drain', () => this.onDrain());
  }

  /** Whether a request is being served (for drains). */
  get busy(): boolean {
    return this.state === 'request';
  }

  /** Called by the server's sweep: closes connections whose wait ran out. */
  checkDeadline(now: number): void {
    if (this.socket.writableNeedDrain || this.waitingForDrain) return this.checkSend(now);
    if (this.state === 'request') return this.checkBody(now);
    if ((this.state !== 'idle' && this.state !== 'head') || now < this.deadline) return;
    if (this.state === 'head') this.reject(new FulcrumError('FUL_ERR_CLIENT_TIMEOUT'));
    else this.close();
  }

  /**
   * A client whose body stalls: past the body timeout its request is told (it answers 408, not blaming the
   * backend); an unread body dropped after an early answer stops being waited for as well.
   */
  private checkBody(now: number): void {
    // Paused: Fulcrum holds the body back. Expecting 100-continue: the client waits for Fulcrum to ask for it.
    if (this.bodyDone || this.bodyPaused || this.expectContinue) return;
    if (this.discarded >= 0) {
      if (now >= this.bodyDeadline || now >= this.lingerUntil) this.close();
      return;
    }
    if (now < this.bodyDeadline) return;
    this.bodyDeadline = Infinity;
    const onIdleTimeout = this.body?.onIdleTimeout;
    if (onIdleTimeout === undefined) this.close();
    else onIdleTimeout();
  }

  /** A client that stopped reading: its response is cut once it has taken nothing for the send timeout. */
  private checkSend(now: number): void {
    if (!this.socket.writableNeedDrain) {
      this.sendStalledSince = undefined;
      return;
    }
    this.sendStalledSince ??= now;
    if (now - this.sendStalledSince >= this.limits.sendTimeout) this.close();
  }

  /** Closes now if idle, else after the response in flight (drain). */
  drain(): void {
    this.draining = true;
    if (this.state !== 'request') this.close();
    else if (this.res !== undefined && !this.res.headersSent) this.res.closeAfter = true;
  }

  close(): void {
    if (this.state === 'closed' || this.state === 'upgraded') return;
    this.state = 'closed';
    this.socket.destroy(); // 'close' follows, and tells a request in flight that it was cut
  }

  private onData(data: Buffer): void {
    if (this.state === 'closed' || this.state === 'upgraded') return;
    try {
      this.consume(data, 0);
    } catch (err) {
      if (err instanceof UnsupportedExpectation) this.reject(new FulcrumError('FUL_ERR_EXPECTATION_FAILED', { cause: err }));
      else if (err instanceof Http1ParseError) {
        this.reject(new FulcrumError(err.tooLarge ? 'FUL_ERR_HEADERS_TOO_LARGE' : 'FUL_ERR_BAD_REQUEST', { cause: err }));
      } else {
        // Not the client's fault, and it must not take the process down.
        this.handlers.onInternalError(err);
        this.close();
      }
    }
  }

  private consume(data: Buffer, offset: number): void {
    while (offset < data.length && this.state !== 'closed' && this.state !== 'upgraded') {
      if (!this.bodyDone) {
        this.bodyDeadline = performance.now() + this.body!.idleTimeout; // kept while an early answer drops it
        offset = this.bodyDecoder.feed(data, offset, (chunk) => this.onBodyChunk(chunk));
        if (this.bodyDecoder.done) this.endBody();
        continue;
      }
      if (this.state === 'request' || this.waitingForDrain || (this.state === 'idle' && this.socket.writableNeedDrain)) {
        // A pipelined request waits until the response before it is over and has left for the client: a client
        // that pipelines without reading holds one response in memory, not one per request it sent.
        const rest = data.subarray(offset);
        this.queued = this.queued === undefined ? Buffer.from(rest) : Buffer.concat([this.queued, rest]);
        if (this.state !== 'request') this.waitForDrain();
        else if (this.queued.length > this.limits.maxHeaderSize) this.socket.pause();
        return;
      }
      const read = this.heads.read(data, offset);
      if (read === undefined) {
        if (this.state === 'idle') {
          this.state = 'head';
          this.deadline = performance.now() + this.limits.headerTimeout;
        }
        return;
      }
      offset = read.next;
      const head = parseRequestHead(read.head);
      // RFC 9110 §7.8 lets a server ignore Upgrade: on a request with a body it is, and the body is framed and
      // forwarded like any other (a WebSocket handshake is a body-less GET).
      if (head.upgrade && head.framing.kind === 'none') return this.upgrade(head, data.subarray(offset));
      this.startRequest(head);
    }
  }

  private startRequest(head: RequestHead): void {
    this.state = 'request';
    const hasBody = head.framing.kind !== 'none';
    this.body = hasBody ? new RequestBody(() => this.wantBody()) : null;
    this.bodyDone = !hasBody;
    this.expectContinue = head.expectContinue;
    if (hasBody) this.bodyDecoder.start(head.framing);
    const res = new DownstreamResponse(this.socket, this, head.minor, head.method === 'HEAD', head.keepAlive && !this.draining);
    this.res = res;
    const body = this.body;
    this.handlers.onRequest(new DownstreamRequest(head, this.remoteAddress, body, this.limits.secure), res);
    // After the pipeline routed the request, which sets the body's timeout from its pool.
    if (body !== null) this.bodyDeadline = performance.now() + body.idleTimeout;
  }

  private onBodyChunk(chunk: Buffer): void {
    if (this.discarded >= 0) {
      this.discarded += chunk.length;
      if (this.discarded > DISCARD_LIMIT) this.close();
      return;
    }
    if (this.body !== null && !this.body.push(chunk)) {
      this.bodyPaused = true;
      this.socket.pause();
    }
  }

  private endBody(): void {
    this.bodyDone = true;
    if (this.discarded >= 0) {
      // The early response is out and the unread body is gone: the connection is usable again.
      this.discarded = -1;
      this.afterResponse();
      return;
    }
    this.body?.push(null);
  }

  /** The body stream wants data: resume reading, and send 100 Continue once if the client waits for it. */
  private wantBody(): void {
    if (this.expectContinue) {
      this.expectContinue = false;
      this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
      if (this.body !== null) this.bodyDeadline = performance.now() + this.body.idleTimeout; // its wait starts now
    }
    if (this.bodyPaused) {
      this.bodyPaused = false;
      this.socket.resume();
    }
  }

  responseDone(res: DownstreamResponse): void {
    if (res !== this.res) return;
    if (res.destroyed || this.state === 'closed') {
      this.state = 'closed';
      res.closed(true);
      this.body?.destroy();
      return;
    }
    res.closed(false);
    if (res.closeAfter || this.draining) {
      this.state = 'closed';
      this.socket.end();
      return;
    }
    if (!this.bodyDone) {
      // Answered before the body was read (an early 413 or 502): drop the rest of the body, then carry on.
      this.discarded = 0;
      this.lingerUntil = performance.now() + LINGER_MS;
      this.body?.destroy(); // kept until afterResponse: its idle timeout bounds the pauses while dropping
      if (this.bodyPaused) {
        this.bodyPaused = false;
        this.socket.resume();
      }
      return;
    }
    this.afterResponse();
  }

  private afterResponse(): void {
    this.res = undefined;
    this.body = null;
    this.bodyDeadline = Infinity;
    this.lingerUntil = Infinity;
    this.state = 'idle';
    this.deadline = performance.now() + this.limits.keepaliveTimeout;
    if (this.queued !== undefined) this.nextQueued();
  }

  /** Serves the pipelined bytes kept so far, once the client has taken what was written before them. */
  private nextQueued(): void {
    if (this.socket.writableNeedDrain) return this.waitForDrain();
    this.waitingForDrain = false;
    const queued = this.queued;
    if (queued === undefined || this.state !== 'idle') return;
    this.queued = undefined;
    this.socket.resume();
    this.onData(queued);
  }

  private waitForDrain(): void {
    this.waitingForDrain = true;
    this.socket.pause();
  }

  private onDrain(): void {
    this.sendStalledSince = undefined;
    if (this.waitingForDrain && this.state === 'idle') this.nextQueued();
  }

  /**
   * Until the backend answers, an Upgrade is a request being served: bytes after its head wait as a pipelined
   * request's do, to become the tunnel's first bytes (101) or the next request (any other answer).
   */
  private upgrade(head: RequestHead, rest: Buffer): void {
    this.state = 'request';
    if (rest.length > 0) this.queued = Buffer.from(rest);
    const res = new DownstreamResponse(this.socket, this, head.minor, head.method === 'HEAD', head.keepAlive && !this.draining);
    this.res = res;
    this.handlers.onUpgrade(new DownstreamRequest(head, this.remoteAddress, null, this.limits.secure), res, { tunnel: () => this.handOver(res) });
  }

  /** The backend switched protocols: the socket and the bytes held so far go to the tunnel. */
  private handOver(res: DownstreamResponse): { socket: Socket; head: Buffer } | undefined {
    if (res !== this.res || this.state !== 'request' || res.destroyed) return undefined;
    if (res.headersSent) throw new Error('an upgrade answered with a response cannot become a tunnel');
    this.state = 'upgraded'; // this connection ignores the socket's events from now on
    this.res = undefined;
    const head = this.queued ?? Buffer.alloc(0);
    this.queued = undefined;
    this.socket.resume(); // paused when the client sent much while it waited
    return { socket: this.socket, head };
  }

  private reject(error: FulcrumError): void {
    if (this.state === 'closed' || this.state === 'upgraded') return;
    this.state = 'closed';
    this.handlers.onRejected(error);
    const { headers, body } = errorResponse(error);
    let head = `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    this.socket.end(`${head}connection: close\r\n\r\n${body}`, 'utf8');
  }

  private onEnd(): void {
    // The client closed its side: as Node's own server does by default, that ends the exchange (a client that gives
    // up waiting closes this way), and 'close' follows to abort a request in flight.
    if (this.state !== 'upgraded') this.close();
  }

  private onClose(): void {
    if (this.state === 'upgraded') return;
    this.state = 'closed';
    this.queued = undefined;
    if (!this.bodyDone) this.body?.destroy(new Error('client closed the connection mid-body'));
    const res = this.res;
    if (res !== undefined && !res.writableEnded && !res.destroyed) {
      res.destroyed = true;
      res.closed(true);
    }
  }
}
