/**
 * Writes one response on a client connection: the head with the framing this client can take (Content-Length as
 * given; else chunked for HTTP/1.1, or until close for HTTP/1.0), the body with backpressure, and the decision to
 * keep the connection or close it. Head and first body bytes leave in one write.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ClientResponse, ResponseListener } from './client.ts';

/** Told when the response ended (or was cut): the connection moves on to the next request or closes. */
export interface ResponseOwner {
  responseDone(res: DownstreamResponse): void;
}

let dateCache = '';
let dateSecond = 0;

/** The Date field (RFC 9110 §6.6.1), rendered at most once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateCache = new Date(now).toUTCString();
  }
  return dateCache;
}

export class DownstreamResponse implements ClientResponse {
  headersSent = false;
  writableEnded = false;
  destroyed = false;
  /** Set when the connection is to close after this response (client asked, draining, an error). */
  closeAfter: boolean;
  listener: ResponseListener | undefined = undefined;
  private notified = false;
  private readonly socket: Socket;
  private readonly owner: ResponseOwner;
  private readonly minor: 0 | 1;
  /** HEAD, 1xx, 204, 304: the head only. */
  private noBody: boolean;
  private chunked = false;
  private head = '';

  constructor(socket: Socket, owner: ResponseOwner, minor: 0 | 1, isHead: boolean, keepAlive: boolean) {
    this.socket = socket;
    this.owner = owner;
    this.minor = minor;
    this.noBody = isHead;
    this.closeAfter = !keepAlive;
  }

  /** Buffers the head; it goes out with the first body bytes or the end. `headers`: flat [name, value, …]. */
  writeHead(status: number, headers: readonly string[]): void {
    if (this.headersSent) throw new Error('response head already sent');
    this.headersSent = true;
    if (status === 204 || status === 304 || status < 200) this.noBody = true;
    let hasLength = false;
    let hasDate = false;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      if (name.length === 14 && name.toLowerCase() === 'content-length') hasLength = true;
      else if (name.length === 4 && name.toLowerCase() === 'date') hasDate = true;
      head += `${name}: ${headers[i + 1]}\r\n`;
    }
    if (!hasDate) head += `date: ${httpDate()}\r\n`;
    if (!this.noBody && !hasLength) {
      if (this.minor === 1) {
        this.chunked = true;
        head += 'transfer-encoding: chunked\r\n';
      } else this.closeAfter = true; // HTTP/1.0: the end of the body is the end of the connection
    }
    if (this.closeAfter) head += 'connection: close\r\n';
    else if (this.minor === 0) head += 'connection: keep-alive\r\n';
    this.head = `${head}\r\n`;
  }

  /** Writes body bytes; false when the socket's buffer is full (wait for `onDrain`). */
  write(chunk: Buffer): boolean {
    if (this.writableEnded || this.destroyed) return true;
    if (this.noBody || chunk.length === 0) return this.flushHead();
    const socket = this.socket;
    let ok: boolean;
    socket.cork();
    this.flushHead();
    if (this.chunked) {
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
    } else ok = socket.write(chunk);
    socket.uncork();
    return ok;
  }

  /** Ends the response (optionally with a last chunk). */
  end(chunk?: Buffer | string): void {
    if (this.writableEnded || this.destroyed) return;
    if (!this.headersSent) throw new Error('end() before writeHead()');
    const socket = this.socket;
    socket.cork();
    if (chunk !== undefined && chunk.length > 0 && !this.noBody) {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      this.flushHead();
      if (this.chunked) socket.write(`${data.length.toString(16)}\r\n`, 'latin1');
      socket.write(data);
      if (this.chunked) socket.write('\r\n0\r\n\r\n', 'latin1');
    } else {
      this.flushHead();
      if (this.chunked) socket.write('0\r\n\r\n', 'latin1');
    }
    socket.uncork();
    this.writableEnded = true;
    this.owner.responseDone(this);
  }

  /** Cuts the response: the client sees it incomplete (a reset or a truncated body), never as whole. */
  destroy(): void {
    if (this.destroyed || this.writableEnded) return;
    this.destroyed = true;
    this.socket.destroy();
    this.owner.responseDone(this);
  }

  /** Tells the listener, once, that the response is over. Called by the connection. */
  closed(aborted: boolean): void {
    if (this.notified) return;
    this.notified = true;
    this.listener?.responseClosed(aborted);
  }

  onDrain(cb: () => void): void {
    this.socket.once('drain', cb);
  }

  private flushHead(): boolean {
    if (this.head !== '') {
      const ok = this.socket.write(this.head, 'latin1');
      this.head = '';
      return ok;
    }
    return true;
  }
}
