/**
 * One keep-alive connection to a backend, carrying one request at a time (no pipelining). It writes the request,
 * streams the body with backpressure, parses the response and hands it to the exchange's handler; when the
 * response is complete and the connection reusable it goes back to its client's idle list.
 */
import net from 'node:net';
import type { Readable } from 'node:stream';
import { connectFailure, FulcrumError } from '../../errors.ts';
import { ResponseParser, ResponseParseError, type ResponseHead } from '../../http1/response-parser.ts';
import type { ExchangeControl, ExchangeHandler, UpstreamRequest } from './types.ts';

export interface ConnectionOwner {
  /** The response finished and the connection may carry another request. */
  release(conn: Http1Connection): void;
  /** The connection closed or will not be reused. */
  forget(conn: Http1Connection): void;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly connectTimeout: number;
  readonly idleTimeout: number;
}

/** connect; send: the request body is being written; head: waiting for the response; body: reading it; idle. */
type Wait = 'connect' | 'send' | 'head' | 'body' | 'idle';

export class Http1Connection implements ExchangeControl {
  private readonly socket: net.Socket;
  private readonly parser: ResponseParser;
  private readonly owner: ConnectionOwner;
  private readonly endpoint: Endpoint;
  private handler: ExchangeHandler | undefined = undefined;
  private request: UpstreamRequest | undefined = undefined;
  private connected = false;
  private closed = false;
  /** Requests this connection carried, the current one included: a failure on a reused one may be a stale socket. */
  private served = 0;
  private requestBodyDone = true;
  private bodyBytes = 0;
  private wait: Wait = 'connect';
  /** When the current wait (connect, head, body inactivity, idle) runs out, on performance.now()'s clock. */
  private deadline = 0;
  private closeWhenDone = false;
  /** Reading held back because the client is slow to take the response: not the backend's stall. */
  private paused = false;
  private socketError: Error | undefined = undefined;
  /** Detaches from the request body being sent, when the exchange ends before it does. */
  private stopSending: (() => void) | undefined = undefined;

  constructor(endpoint: Endpoint, owner: ConnectionOwner) {
    this.endpoint = endpoint;
    this.owner = owner;
    this.parser = new ResponseParser({
      onHead: (head) => this.onHead(head),
      onBody: (chunk, last) => this.handler?.onResponseData(chunk, last),
    });
    this.socket = net.connect({ host: endpoint.host, port: endpoint.port, noDelay: true });
    this.deadline = performance.now() + endpoint.connectTimeout;
    this.socket.on('connect', () => this.onConnect());
    this.socket.on('data', (data: Buffer) => this.onData(data));
    this.socket.on('error', (err) => this.onSocketError(err));
    this.socket.on('close', () => this.onClose());
    this.socket.on('end', () => this.socket.end());
  }

  /** Starts a request on this connection (before or after it is connected). */
  assign(request: UpstreamRequest, handler: ExchangeHandler): void {
    this.request = request;
    this.handler = handler;
    this.served++;
    this.parser.expect(request.method === 'HEAD');
    handler.onStart(this);
    if (this.connected) this.send();
  }

  /** Closes the connection now if idle, else once its response is complete (reload, shutdown). */
  close(): void {
    if (this.handler === undefined) this.socket.destroy();
    else this.closeWhenDone = true;
  }

  // ExchangeControl
  abort(reason: FulcrumError): void {
    this.fail(reason);
  }
  pause(): void {
    this.paused = true;
    this.socket.pause();
  }
  resume(): void {
    this.paused = false;
    // The backend's body timeout counts from here: the time the client took is the client's (its send timeout).
    if (this.wait === 'body') this.deadline = performance.now() + this.request!.bodyTimeout;
    this.socket.resume();
  }

  private onConnect(): void {
    this.connected = true;
    if (this.handler !== undefined) this.send();
    else this.idle();
  }

  private send(): void {
    const req = this.request!;
    let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
    const h = req.headers;
    for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`;
    this.wait = 'send';
    this.deadline = Infinity;
    const body = req.body;
    switch (body.kind) {
      case 'none':
        this.socket.write(`${head}\r\n`, 'latin1');
        return this.requestSent();
      case 'empty':
        this.socket.write(`${head}content-length: 0\r\n\r\n`, 'latin1');
        return this.requestSent();
      case 'length':
        this.socket.write(`${head}content-length: ${body.length}\r\n\r\n`, 'latin1');
        return this.sendBody(body.stream, body.length);
      case 'chunked':
        this.socket.write(`${head}transfer-encoding: chunked\r\n\r\n`, 'latin1');
        return this.sendBody(body.stream, -1);
    }
  }

  /** The whole request is on its way: the backend's time to answer starts now (a long upload is not its delay). */
  private requestSent(): void {
    this.requestBodyDone = true;
    if (this.wait === 'send') {
      this.wait = 'head';
      this.deadline = performance.now() + this.request!.headersTimeout;
    }
  }

  /**
   * Streams the body with backpressure: `length` bytes exactly (the parser bounded them; fewer means the client
   * went away), or re-chunked when `length` is -1. While the backend does not take what is written, its response
   * timeout runs (a backend that stops reading is stalled); while Fulcrum waits for the client, nothing runs here:
   * that is the client's body timeout, on the downstream side.
   */
  private sendBody(body: Readable, length: number): void {
    const req = this.request!;
    const socket = this.socket;
    this.requestBodyDone = false;
    this.bodyBytes = 0;
    const onDrain = () => {
      if (this.wait === 'send') this.deadline = Infinity;
      body.resume();
    };
    const onData = (chunk: Buffer) => {
      this.bodyBytes += chunk.length;
      if (this.bodyBytes > req.maxBodyBytes || (length >= 0 && this.bodyBytes > length)) {
        cleanup();
        this.fail(new FulcrumError('FUL_ERR_BODY_TOO_LARGE'));
        return;
      }
      let ok: boolean;
      if (length < 0) {
        // One corked write of the three parts: each is queued whatever the others return.
        socket.cork();
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        ok = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else ok = socket.write(chunk);
      if (!ok) {
        body.pause();
        if (this.wait === 'send') this.deadline = performance.now() + req.headersTimeout;
        socket.once('drain', onDrain);
      }
    };
    const onEnd = () => {
      cleanup();
      if (length >= 0 && this.bodyBytes !== length) {
        return this.fail(new FulcrumError('FUL_ERR_CLIENT_ABORTED', { message: 'the request body ended short of its length' }));
      }
      if (length < 0) socket.write('0\r\n\r\n', 'latin1');
      this.requestSent();
      if (this.parser.done && this.handler === undefined) this.owner.release(this);
    };
    const onAbort = (err?: unknown) => {
      cleanup();
      // The downstream side says why (a client body timeout); anything else is the client going away.
      this.fail(err instanceof FulcrumError ? err : new FulcrumError('FUL_ERR_CLIENT_ABORTED'));
    };
    const cleanup = () => {
      this.stopSending = undefined;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onAbort);
      body.off('aborted', onAbort);
      socket.off('drain', onDrain);
    };
    this.stopSending = cleanup;
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onAbort);
    body.once('aborted', onAbort);
  }

  private onData(data: Buffer): void {
    if (this.handler === undefined) {
      // Bytes on an idle connection: the backend is out of step; do not trust this connection again.
      this.socket.destroy();
      return;
    }
    if (this.wait === 'body') this.deadline = performance.now() + this.request!.bodyTimeout;
    let complete: boolean;
    try {
      complete = this.parser.execute(data);
    } catch (err) {
      // A handler that throws must cost this exchange, never the process.
      const code = err instanceof ResponseParseError ? 'FUL_ERR_BAD_RESPONSE' : 'FUL_ERR_INTERNAL';
      return this.fail(new FulcrumError(code, { cause: err }));
    }
    if (complete) this.onComplete();
  }

  private onHead(head: ResponseHead): void {
    this.wait = 'body';
    this.deadline = performance.now() + this.request!.bodyTimeout;
    this.handler!.onResponseStart(head.status, head.headers, head.contentLength);
  }

  private onComplete(): void {
    // The handler may have ended the exchange from inside a body callback (its client went away): nothing to end.
    const handler = this.handler;
    if (handler === undefined) return;
    this.handler = undefined;
    this.request = undefined;
    // The response is complete before the request body is (a backend may answer early): not reusable.
    const reusable = this.parser.reusable && this.requestBodyDone && !this.closeWhenDone;
    if (reusable) this.idle();
    handler.onResponseEnd();
    if (reusable) this.owner.release(this);
    else {
      this.owner.forget(this);
      this.socket.destroy();
    }
  }

  private idle(): void {
    // Paused for a slow client when the last bytes came in: the next exchange must find the socket reading.
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    this.wait = 'idle';
    this.deadline = performance.now() + this.endpoint.idleTimeout;
  }

  /**
   * Called by the client's sweep: fails or closes the connection when its current wait has run out. Deadlines
   * are plain numbers checked on a coarse tick, rather than a socket timer re-armed three times per request.
   */
  checkDeadline(now: number): void {
    if (now >= this.deadline && !(this.paused && this.wait === 'body')) this.onTimeout();
  }

  private onTimeout(): void {
    switch (this.wait) {
      case 'connect':
        return this.fail(new FulcrumError('FUL_ERR_CONNECT_TIMEOUT'));
      case 'send':
        return this.fail(new FulcrumError('FUL_ERR_RESPONSE_TIMEOUT', { message: 'the backend stopped reading the request body' }));
      case 'head':
        return this.fail(new FulcrumError('FUL_ERR_RESPONSE_TIMEOUT'));
      case 'body':
        return this.fail(new FulcrumError('FUL_ERR_RESPONSE_TIMEOUT', { message: 'the backend stalled mid-body' }));
      case 'idle':
        this.owner.forget(this);
        this.socket.destroy();
    }
  }

  private onSocketError(err: Error): void {
    this.socketError = err;
  }

  private onClose(): void {
    this.closed = true;
    this.owner.forget(this);
    if (this.handler === undefined) return;
    if (this.parser.readsUntilClose && this.socketError === undefined && this.parser.finish()) {
      this.onComplete();
      return;
    }
    if (!this.connected) {
      return this.fail(connectFailure(this.socketError));
    }
    // Closed before any byte of the response on a reused connection: the classic keep-alive race.
    const reused = this.served > 1 && !this.parser.started;
    this.fail(new FulcrumError('FUL_ERR_BACKEND_RESET', { cause: this.socketError, reused }));
  }

  /** Ends the current exchange with an error, once, and closes the connection. */
  private fail(error: FulcrumError): void {
    this.stopSending?.();
    const handler = this.handler;
    this.handler = undefined;
    this.request = undefined;
    this.owner.forget(this);
    if (!this.closed) this.socket.destroy();
    handler?.onError(error);
  }
}
