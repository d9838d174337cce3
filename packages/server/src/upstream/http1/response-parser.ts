/**
 * An incremental, strict HTTP/1.1 response parser (RFC 9112) for Fulcrum's upstream connections. The downstream
 * side, which faces untrusted clients, keeps Node's llhttp; this one reads our own backends, and exists because
 * the hot path must be leaner than a general-purpose client. Strict where laxity enables response splitting:
 * both Transfer-Encoding and Content-Length, conflicting lengths, bad chunk sizes, obs-fold, stray CR/LF/NUL in
 * fields are errors.
 */
export class ResponseParseError extends Error {
  override readonly name = 'ResponseParseError';
  readonly code = 'FUL_UPSTREAM_BAD_RESPONSE';
}

export interface ResponseHead {
  readonly status: number;
  /** Flat [name, value, …] in the order received, names as sent (Node's writeHead takes this form as is). */
  readonly headers: string[];
  /** Whether the connection may carry another request after this response. */
  readonly keepAlive: boolean;
}

export interface ResponseEvents {
  /** A final (non-1xx) response head. */
  onHead(head: ResponseHead): void;
  /**
   * A slice of the body (chunked framing removed), `last` when it is known to end the body (a Content-Length body).
   * Only valid during the call: it may view the socket's buffer.
   */
  onBody(chunk: Buffer, last: boolean): void;
}

/** Where the parser is in the response (a const object: erasable syntax has no enums). */
const Phase = {
  HEAD: 0,
  BODY_LENGTH: 1,
  BODY_UNTIL_CLOSE: 2,
  CHUNK_SIZE: 3,
  CHUNK_DATA: 4,
  CHUNK_DATA_END: 5,
  TRAILERS: 6,
  DONE: 7,
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE = 1024;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What Node's own writeHead rejects (field-vchar, SP and HTAB are allowed): such a value must not reach it. */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const DIGITS = /^\d+$/;
const STATUS_CODE = /^\d{3}$/;
const HEX = /^[0-9a-fA-F]+$/;

export class ResponseParser {
  private state: Phase = Phase.HEAD;
  /** Bytes of the head (or of a chunk-size / trailer line) carried over from the previous chunk of input. */
  private pending: Buffer | undefined = undefined;
  private remaining = 0;
  private keepAlive = true;
  private readonly events: ResponseEvents;
  /** Set per request: a response to HEAD has no body whatever its headers say. */
  private noBody = false;

  constructor(events: ResponseEvents) {
    this.events = events;
  }

  /** Prepares for the response to the next request. */
  expect(isHead: boolean): void {
    this.state = Phase.HEAD;
    this.pending = undefined;
    this.noBody = isHead;
    this.keepAlive = true;
  }

  get done(): boolean {
    return this.state === Phase.DONE;
  }

  /** True when the body runs until the connection closes: EOF then completes it. */
  get readsUntilClose(): boolean {
    return this.state === Phase.BODY_UNTIL_CLOSE;
  }

  /** Whether any byte of the current response has been received. */
  get started(): boolean {
    return this.state !== Phase.HEAD || this.pending !== undefined;
  }

  /**
   * Feeds bytes from the socket; true when they complete the response. Completion is returned, not signalled
   * from inside, so that the connection can be reused only once this call is over. Throws ResponseParseError on a
   * malformed response, and on bytes after its end (no pipelining: they would be taken for the next response).
   */
  execute(data: Buffer): boolean {
    let offset = 0;
    while (offset < data.length && this.state !== Phase.DONE) {
      switch (this.state) {
        case Phase.HEAD:
          offset = this.readHead(data, offset);
          break;
        case Phase.BODY_LENGTH: {
          const n = Math.min(this.remaining, data.length - offset);
          this.remaining -= n;
          const slice = data.subarray(offset, offset + n);
          offset += n;
          if (this.remaining === 0) this.state = Phase.DONE;
          this.events.onBody(slice, this.remaining === 0);
          break;
        }
        case Phase.BODY_UNTIL_CLOSE:
          this.events.onBody(offset === 0 ? data : data.subarray(offset), false);
          offset = data.length;
          break;
        case Phase.CHUNK_SIZE:
        case Phase.TRAILERS: {
          const line = this.readLine(data, offset, MAX_CHUNK_LINE);
          if (line === undefined) return false;
          offset = line.next;
          if (this.state === Phase.CHUNK_SIZE) this.onChunkSize(line.text);
          else if (line.text === '') this.state = Phase.DONE;
          break;
        }
        case Phase.CHUNK_DATA: {
          const n = Math.min(this.remaining, data.length - offset);
          this.remaining -= n;
          const slice = data.subarray(offset, offset + n);
          offset += n;
          if (this.remaining === 0) this.state = Phase.CHUNK_DATA_END;
          this.events.onBody(slice, false);
          break;
        }
        case Phase.CHUNK_DATA_END: {
          const line = this.readLine(data, offset, 2);
          if (line === undefined) return false;
          if (line.text !== '') throw new ResponseParseError('missing CRLF after chunk data');
          offset = line.next;
          this.state = Phase.CHUNK_SIZE;
          break;
        }
      }
    }
    if (this.state !== Phase.DONE) return false;
    if (offset < data.length) throw new ResponseParseError('data after the end of the response');
    return true;
  }

  /** The connection closed: true when that completes a close-delimited body (else it was cut short). */
  finish(): boolean {
    if (this.state === Phase.BODY_UNTIL_CLOSE) this.state = Phase.DONE;
    return this.state === Phase.DONE;
  }

  get reusable(): boolean {
    return this.state === Phase.DONE && this.keepAlive;
  }

  private readHead(data: Buffer, offset: number): number {
    let buf = data;
    let start = offset;
    let searchFrom = offset;
    if (this.pending !== undefined) {
      // Re-scan from 3 bytes before the seam, so that a CRLFCRLF split across reads is found.
      searchFrom = Math.max(0, this.pending.length - 3);
      buf = Buffer.concat([this.pending, data.subarray(offset)]);
      start = 0;
    }
    const end = buf.indexOf('\r\n\r\n', searchFrom, 'latin1');
    if (end < 0) {
      if (buf.length - start > MAX_HEAD_BYTES) throw new ResponseParseError('response head too large');
      this.pending = Buffer.from(buf.subarray(start));
      return data.length;
    }
    const consumedFromData = this.pending === undefined ? end + 4 : end + 4 - this.pending.length + offset;
    this.pending = undefined;
    this.parseHead(buf.toString('latin1', start, end));
    return consumedFromData;
  }

  private parseHead(head: string): void {
    const lines = head.split('\r\n');
    const statusLine = lines[0]!;
    // RFC 9112 §4: HTTP-version SP 3DIGIT SP [reason]
    const minor = statusLine.charCodeAt(7) - 48;
    const wellFormed =
      statusLine.startsWith('HTTP/1.') &&
      (minor === 0 || minor === 1) &&
      statusLine.charCodeAt(8) === 32 &&
      STATUS_CODE.test(statusLine.slice(9, 12)) &&
      (statusLine.length === 12 || statusLine.charCodeAt(12) === 32);
    if (!wellFormed) throw new ResponseParseError(`bad status line: ${JSON.stringify(statusLine.slice(0, 40))}`);
    const status = Number(statusLine.slice(9, 12));
    if (status < 100) throw new ResponseParseError(`bad status code: ${status}`);
    const headers: string[] = [];
    let contentLength = -1;
    let chunked = false;
    let transferEncoding = false;
    let connection: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new ResponseParseError('malformed header line');
      const rawName = line.slice(0, colon);
      if (!TOKEN.test(rawName)) throw new ResponseParseError('invalid header name'); // also rejects obs-fold
      const name = rawName.toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (BAD_VALUE.test(value)) throw new ResponseParseError('invalid header value');
      switch (name) {
        case 'content-length': {
          if (!DIGITS.test(value)) throw new ResponseParseError('invalid content-length');
          const n = Number(value);
          if (contentLength >= 0 && n !== contentLength) throw new ResponseParseError('conflicting content-length');
          contentLength = n;
          break;
        }
        case 'transfer-encoding':
          transferEncoding = true;
          // RFC 9112 §6.3: chunked must be the final coding.
          chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
          break;
        case 'connection':
          connection = connection === undefined ? value : `${connection}, ${value}`;
          break;
      }
      headers.push(rawName, value);
    }
    if (transferEncoding && contentLength >= 0) {
      throw new ResponseParseError('both transfer-encoding and content-length');
    }
    if (status < 200) {
      if (status === 101) throw new ResponseParseError('unexpected 101 on a non-upgrade request');
      return; // 1xx interim: the final response follows on the same connection.
    }
    const close = connection !== undefined && /(?:^|,)\s*close\s*(?:,|$)/i.test(connection);
    const keepAliveOn10 = connection !== undefined && /(?:^|,)\s*keep-alive\s*(?:,|$)/i.test(connection);
    this.keepAlive = minor === 1 ? !close : keepAliveOn10 && !close;
    if (this.noBody || status === 204 || status === 304) {
      this.state = Phase.DONE;
    } else if (chunked) {
      this.state = Phase.CHUNK_SIZE;
    } else if (transferEncoding) {
      this.state = Phase.BODY_UNTIL_CLOSE;
      this.keepAlive = false;
    } else if (contentLength >= 0) {
      this.remaining = contentLength;
      this.state = contentLength === 0 ? Phase.DONE : Phase.BODY_LENGTH;
    } else {
      this.state = Phase.BODY_UNTIL_CLOSE;
      this.keepAlive = false;
    }
    this.events.onHead({ status, headers, keepAlive: this.keepAlive });
  }

  private onChunkSize(line: string): void {
    const semi = line.indexOf(';');
    const size = (semi < 0 ? line : line.slice(0, semi)).trim();
    if (!HEX.test(size) || size.length > 12) throw new ResponseParseError('invalid chunk size');
    this.remaining = parseInt(size, 16);
    this.state = this.remaining === 0 ? Phase.TRAILERS : Phase.CHUNK_DATA;
  }

  /** Reads one CRLF-terminated line, carrying partial lines across calls. */
  private readLine(data: Buffer, offset: number, max: number): { text: string; next: number } | undefined {
    let buf = data;
    let start = offset;
    if (this.pending !== undefined) {
      buf = Buffer.concat([this.pending, data.subarray(offset)]);
      start = 0;
    }
    const end = buf.indexOf('\r\n', start, 'latin1');
    if (end < 0) {
      if (buf.length - start > max + 2) throw new ResponseParseError('line too long in chunked body');
      this.pending = Buffer.from(buf.subarray(start));
      return undefined;
    }
    const text = buf.toString('latin1', start, end);
    const next = this.pending === undefined ? end + 2 : offset + end + 2 - this.pending.length;
    this.pending = undefined;
    return { text, next };
  }
}
