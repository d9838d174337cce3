/**
 * An incremental, strict HTTP/1.1 response parser (RFC 9112) for Fulcrum's upstream connections: the head, then
 * the body through the shared BodyDecoder. Both-TE-and-CL, conflicting lengths and bad fields are errors
 * (fields.ts). Bytes after the end of a response make its connection unusable (they would be taken for the next
 * response), without failing the response itself.
 */
import { BodyDecoder, type Framing, type OnBody } from './body-decoder.ts';
import { Http1ParseError } from './errors.ts';
import { hasToken, parseFields } from './fields.ts';
import { HeadReader } from './head-reader.ts';

export { Http1ParseError as ResponseParseError } from './errors.ts';

export interface ResponseHead {
  readonly status: number;
  /** Flat [name, value, …] in the order received, names as sent. */
  readonly headers: string[];
  /**
   * The one Content-Length the parser accepted (repeats must agree), -1 when absent or when Transfer-Encoding
   * frames the body. For HEAD, 204 and 304 it is what the backend declared; the body is empty whatever it says.
   */
  readonly contentLength: number;
  /** Whether the connection may carry another request after this response. */
  readonly keepAlive: boolean;
}

export interface ResponseEvents {
  /** A final (non-1xx) response head. */
  onHead(head: ResponseHead): void;
  onBody: OnBody;
}

const MAX_HEAD_BYTES = 64 * 1024;
const STATUS_CODE = /^\d{3}$/;
/** reason-phrase = *( HTAB / SP / VCHAR / obs-text ) (RFC 9112 §4). */
const BAD_REASON = /[^\t\x20-\x7e\x80-\xff]/;

export class ResponseParser {
  private readonly head = new HeadReader(MAX_HEAD_BYTES);
  private readonly body = new BodyDecoder();
  private readingHead = true;
  private keepAlive = true;
  /** Set per request: a response to HEAD has no body whatever its headers say. */
  private noBody = false;
  private readonly events: ResponseEvents;

  constructor(events: ResponseEvents) {
    this.events = events;
  }

  /** Prepares for the response to the next request. */
  expect(isHead: boolean): void {
    this.head.reset();
    this.readingHead = true;
    this.noBody = isHead;
    this.keepAlive = true;
  }

  get done(): boolean {
    return !this.readingHead && this.body.done;
  }

  /** True when the body runs until the connection closes: EOF then completes it. */
  get readsUntilClose(): boolean {
    return !this.readingHead && this.body.untilClose;
  }

  /** Whether any byte of the current response has been received. */
  get started(): boolean {
    return !this.readingHead || this.head.partial;
  }

  get reusable(): boolean {
    return this.done && this.keepAlive;
  }

  /**
   * Feeds bytes from the socket; true when they complete the response. Completion is returned, not signalled
   * from inside, so that the connection is reused only once this call is over. Throws Http1ParseError.
   */
  execute(data: Buffer): boolean {
    let offset = 0;
    while (offset < data.length && !this.done) {
      if (this.readingHead) {
        const read = this.head.read(data, offset);
        if (read === undefined) return false;
        offset = read.next;
        this.onHead(read.head);
      } else offset = this.body.feed(data, offset, this.events.onBody);
    }
    if (!this.done) return false;
    // Bytes past the end (a 204 or 304 with a body, a length that undercounts): the response itself is whole and
    // is delivered, but the connection is out of step and must not carry another request.
    if (offset < data.length) this.keepAlive = false;
    return true;
  }

  /** The connection closed: true when that completes a close-delimited body (else it was cut short). */
  finish(): boolean {
    return !this.readingHead && this.body.close();
  }

  private onHead(text: string): void {
    const lines = text.split('\r\n');
    const statusLine = lines[0]!;
    // RFC 9112 §4: HTTP-version SP 3DIGIT SP [reason]
    const minor = statusLine.charCodeAt(7) - 48;
    const wellFormed =
      statusLine.startsWith('HTTP/1.') &&
      (minor === 0 || minor === 1) &&
      statusLine.charCodeAt(8) === 32 &&
      STATUS_CODE.test(statusLine.slice(9, 12)) &&
      (statusLine.length === 12 || statusLine.charCodeAt(12) === 32) &&
      !BAD_REASON.test(statusLine); // a bare CR or LF in the reason would hide a field line from Fulcrum
    if (!wellFormed) throw new Http1ParseError(`bad status line: ${JSON.stringify(statusLine.slice(0, 40))}`);
    const status = Number(statusLine.slice(9, 12));
    if (status < 100) throw new Http1ParseError(`bad status code: ${status}`);
    const fields = parseFields(lines, 1);
    if (fields.transferEncoding && fields.contentLength >= 0) {
      throw new Http1ParseError('both transfer-encoding and content-length');
    }
    if (status < 200) {
      if (status === 101) throw new Http1ParseError('unexpected 101 on a non-upgrade request');
      return; // 1xx interim: the final response follows on the same connection.
    }
    const close = hasToken(fields.connection, 'close');
    this.keepAlive = minor === 1 ? !close : hasToken(fields.connection, 'keep-alive') && !close;
    let framing: Framing;
    if (this.noBody || status === 204 || status === 304) framing = { kind: 'none' };
    else if (fields.chunked) framing = { kind: 'chunked' };
    else if (fields.contentLength >= 0 && !fields.transferEncoding) framing = { kind: 'length', length: fields.contentLength };
    else framing = { kind: 'until-close' };
    if (framing.kind === 'until-close') this.keepAlive = false;
    this.readingHead = false;
    this.body.start(framing);
    const contentLength = fields.transferEncoding ? -1 : fields.contentLength;
    this.events.onHead({ status, headers: fields.raw, contentLength, keepAlive: this.keepAlive });
  }
}
