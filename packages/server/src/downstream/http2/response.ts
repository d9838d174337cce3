/**
 * A response on an HTTP/2 stream (ClientResponse): the head as one HEADERS frame, without the fields that belong
 * to an HTTP/1.1 connection (RFC 9113 §8.2.2), with END_STREAM on it when there is no body; the body with the
 * stream's backpressure (flow control); a cut response is a RST_STREAM. A body the client is still sending after
 * the whole response is refused by node with RST_STREAM NO_ERROR (RFC 9113 §8.1).
 */
import { constants, type ServerHttp2Stream } from 'node:http2';
import type { ClientResponse, ResponseListener } from '../client.ts';
import type { H2RequestBody } from './request.ts';

/** Told once when the response is over (for the session's accounting of streams). */
export interface StreamOwner {
  responseDone(res: H2Response): void;
}

/** RFC 9113 §8.2.2: connection-specific fields; node refuses to send them, nghttp2 refuses to receive them. */
function isConnectionSpecific(name: string): boolean {
  switch (name.length) {
    case 7:
      return name.toLowerCase() === 'upgrade';
    case 10:
      return name.toLowerCase() === 'connection' || name.toLowerCase() === 'keep-alive';
    case 16:
      return name.toLowerCase() === 'proxy-connection';
    case 17:
      return name.toLowerCase() === 'transfer-encoding';
    default:
      return false;
  }
}

export class H2Response implements ClientResponse {
  headersSent = false;
  writableEnded = false;
  destroyed = false;
  /** Nothing to do on HTTP/2: the stream ends, the connection carries on (a drain sends GOAWAY instead). */
  closeAfter = false;
  listener: ResponseListener | undefined = undefined;
  readonly stream: ServerHttp2Stream;
  /** The request's body, for the session's sweep (its idle timeout). */
  readonly body: H2RequestBody | null;
  /** Since when the client has taken nothing of this response while the stream's buffer is full. */
  stalledSince: number | undefined = undefined;
  private readonly owner: StreamOwner;
  /** HEAD, 1xx, 204, 304: the head only. */
  private noBody: boolean;
  /** The head until it goes out, with the first body bytes or the end. */
  private head: string[] | undefined = undefined;
  private notified = false;

  constructor(stream: ServerHttp2Stream, owner: StreamOwner, isHead: boolean, body: H2RequestBody | null) {
    this.stream = stream;
    this.body = body;
    this.owner = owner;
    this.noBody = isHead;
  }

  writeHead(status: number, headers: readonly string[]): void {
    if (this.headersSent) throw new Error('response head already sent');
    this.headersSent = true;
    if (status === 204 || status === 304 || status < 200) this.noBody = true;
    const head = [':status', String(status)];
    for (let i = 0; i < headers.length; i += 2) {
      if (!isConnectionSpecific(headers[i]!)) head.push(headers[i]!, headers[i + 1]!);
    }
    this.head = head;
  }

  write(chunk: Buffer): boolean {
    if (this.writableEnded || this.destroyed) return true;
    if (this.noBody || chunk.length === 0) return true; // the head waits for the end, to carry END_STREAM
    if (!this.flushHead(false)) return true;
    return this.stream.write(chunk);
  }

  end(chunk?: Buffer | string): void {
    if (this.writableEnded || this.destroyed) return;
    if (!this.headersSent) throw new Error('end() before writeHead()');
    const data = chunk !== undefined && chunk.length > 0 && !this.noBody ? chunk : undefined;
    if (data === undefined && this.head !== undefined) {
      if (!this.flushHead(true)) return;
    } else {
      if (!this.flushHead(false)) return;
      if (!this.stream.closed) this.stream.end(data);
    }
    this.writableEnded = true;
    this.closed(false);
  }

  destroy(): void {
    if (this.destroyed || this.writableEnded) return;
    this.destroyed = true;
    if (!this.stream.closed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    this.closed(true);
  }

  onDrain(cb: () => void): void {
    this.stream.once('drain', cb);
  }

  /** Tells the listener and the session, once, that the response is over. */
  closed(aborted: boolean): void {
    if (this.notified) return;
    this.notified = true;
    this.owner.responseDone(this);
    this.listener?.responseClosed(aborted);
  }

  /** Sends the head if it waits; false when the stream is gone or the head could not be sent (then cut). */
  private flushHead(endStream: boolean): boolean {
    const head = this.head;
    if (head === undefined) return !this.stream.closed;
    this.head = undefined;
    if (this.stream.closed || this.stream.destroyed) return false;
    try {
      this.stream.respond(head, { endStream, waitForTrailers: false });
    } catch {
      // node refuses a repeated field it holds to be single (two Content-Types, say): join them, as a list.
      try {
        this.stream.respond(joinRepeated(head), { endStream, waitForTrailers: false });
      } catch {
        this.destroy();
        return false;
      }
    }
    return true;
  }
}

/** Repeated fields (Set-Cookie excepted, RFC 6265 §3) joined with ", " (RFC 9110 §5.3), names in lower case. */
function joinRepeated(head: readonly string[]): string[] {
  const seen = new Map<string, number>();
  const out: string[] = [];
  for (let i = 0; i < head.length; i += 2) {
    const name = head[i]!.toLowerCase();
    const at = name === 'set-cookie' ? undefined : seen.get(name);
    if (at === undefined) {
      seen.set(name, out.length);
      out.push(name, head[i + 1]!);
    } else out[at + 1] = `${out[at + 1]}, ${head[i + 1]}`;
  }
  return out;
}
