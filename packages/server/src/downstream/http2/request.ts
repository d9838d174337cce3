/**
 * An HTTP/2 request stream as the pipeline reads any request (ClientRequest): method and target from the
 * pseudo-header fields, :authority as Host, cookies in one field, and the stream's DATA as a body stream.
 * nghttp2 has already refused what RFC 9113 §8.2 calls malformed (upper-case names, connection-specific fields,
 * a TE other than "trailers", a Content-Length the DATA frames do not add up to, a missing :method or :path).
 */
import type { ServerHttp2Stream } from 'node:http2';
import { Readable } from 'node:stream';
import type { Framing } from '../../http1/body-decoder.ts';
import { fieldValue, type ClientBody, type ClientRequest } from '../client.ts';

/** RFC 9113 §6.5.2: a field counts its name, its value and 32 octets. */
const FIELD_OVERHEAD = 32;

/** Why a stream's head is refused before the pipeline sees it. */
export type HeadRefusal = 'too-large' | 'host-mismatch';

export class H2Request implements ClientRequest {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: readonly string[];
  readonly framing: Framing;
  readonly remoteAddress: string;
  readonly body: H2RequestBody | null;
  readonly secure: boolean;
  readonly httpVersion = '2';

  constructor(head: H2Head, remoteAddress: string, body: H2RequestBody | null, secure: boolean) {
    this.method = head.method;
    this.url = head.path;
    this.rawHeaders = head.fields;
    this.framing = head.framing;
    this.remoteAddress = remoteAddress;
    this.body = body;
    this.secure = secure;
  }

  header(name: string): string | undefined {
    return fieldValue(this.rawHeaders, name);
  }
}

/** A stream's head read once: the pseudo-header fields taken out, the regular fields as forwarded. */
export interface H2Head {
  readonly method: string;
  readonly path: string;
  readonly fields: string[];
  readonly framing: Framing;
  readonly expectContinue: boolean;
}

/**
 * Reads `raw` (node's flat list, pseudo-header fields first). `maxSize`: the limit on the field list as RFC 9113
 * §6.5.2 counts it, also enforced here because nghttp2 applies SETTINGS_MAX_HEADER_LIST_SIZE only once the client
 * acknowledged it. `ended`: END_STREAM came with the head (no body).
 */
export function readHead(raw: readonly string[], ended: boolean, maxSize: number): H2Head | HeadRefusal {
  let method = '';
  let path = '';
  let authority: string | undefined;
  let host: string | undefined;
  let cookie: string | undefined;
  let length = -1;
  let expectContinue = false;
  let size = 0;
  const fields: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    size += name.length + value.length + FIELD_OVERHEAD;
    if (name.charCodeAt(0) === 0x3a /* : */) {
      if (name === ':method') method = value;
      else if (name === ':path') path = value;
      else if (name === ':authority') authority = value;
      continue; // :scheme is the listener's business; :protocol never gets here (no SETTINGS_ENABLE_CONNECT_PROTOCOL)
    }
    switch (name) {
      case 'cookie':
        // RFC 9113 §8.2.3: split cookies are joined with "; " before they leave HTTP/2.
        cookie = cookie === undefined ? value : `${cookie}; ${value}`;
        continue;
      case 'host':
        host = value;
        break;
      case 'content-length':
        length = Number(value); // nghttp2 refused a value that is not one number
        break;
      case 'expect':
        expectContinue = value.toLowerCase() === '100-continue';
        break;
    }
    fields.push(name, value);
  }
  if (size > maxSize) return 'too-large';
  if (authority !== undefined) {
    // RFC 9113 §8.3.1: a Host naming another authority than :authority makes the request malformed.
    if (host !== undefined) {
      if (host.toLowerCase() !== authority.toLowerCase()) return 'host-mismatch';
      removeField(fields, 'host');
    }
    fields.unshift('host', authority);
  }
  if (cookie !== undefined) fields.push('cookie', cookie);
  const framing: Framing = ended ? NONE : length >= 0 ? { kind: 'length', length } : CHUNKED;
  // CONNECT has no :path (RFC 9113 §8.5): its target is the authority, which the pipeline refuses like HTTP/1.1's.
  if (method === 'CONNECT' && path === '') path = authority ?? '';
  return { method, path, fields, framing, expectContinue };
}

const NONE: Framing = { kind: 'none' };
/** A body of unknown length: chunked upstream (the DATA frames' end is its end). */
const CHUNKED: Framing = { kind: 'chunked' };

function removeField(fields: string[], name: string): void {
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === name) {
      fields.splice(i, 2);
      return;
    }
  }
}

/** nginx's client_body_timeout default, until the request's route says otherwise. */
const DEFAULT_BODY_TIMEOUT_MS = 60_000;

/**
 * The stream's DATA as a body stream. Reading is paused when the consumer is behind, which holds the client
 * through HTTP/2 flow control (its window is not refilled); the first read answers `100 Continue` when the client
 * waits for it (RFC 9110 §10.1.1). A stream reset or closed before its end ends the body in an error.
 */
export class H2RequestBody extends Readable implements ClientBody {
  idleTimeout = DEFAULT_BODY_TIMEOUT_MS;
  onIdleTimeout: (() => void) | undefined = undefined;
  /** While the client's body is awaited: when its current pause runs out (performance.now()); Infinity otherwise. */
  deadline = Infinity;
  /** The body arrived whole. */
  done = false;
  /** Reading is paused because the consumer is behind (Fulcrum holds the body back: no timeout runs). */
  held = false;
  /** The body timeout applies (from routing on). */
  private timing = false;
  private readonly stream: ServerHttp2Stream;
  private expectContinue: boolean;

  constructor(stream: ServerHttp2Stream, expectContinue: boolean) {
    super();
    this.stream = stream;
    this.expectContinue = expectContinue;
    // A body nobody reads (the request was refused early) must not turn a reset into an uncaught error.
    this.on('error', () => {});
    stream.on('data', (chunk: Buffer) => {
      if (this.timing) this.deadline = performance.now() + this.idleTimeout;
      if (!this.push(chunk)) {
        this.held = true;
        stream.pause();
      }
    });
    stream.once('end', () => {
      this.done = true;
      this.deadline = Infinity;
      this.push(null);
    });
  }

  /** The pipeline routed the request (its pool set `idleTimeout`): the client's pauses count from now. */
  startTimer(now: number): void {
    this.timing = true;
    if (!this.done && !this.expectContinue) this.deadline = now + this.idleTimeout;
  }

  override _read(): void {
    if (this.expectContinue) {
      this.expectContinue = false;
      if (!this.stream.headersSent && !this.stream.closed) this.stream.additionalHeaders({ ':status': 100 });
      if (this.timing && !this.done) this.deadline = performance.now() + this.idleTimeout; // its wait starts now
    }
    if (this.held) {
      this.held = false;
      // The client was held back by Fulcrum, not late: its pause counts from now.
      if (this.timing && !this.done) this.deadline = performance.now() + this.idleTimeout;
      this.stream.resume();
    }
  }

  /** The stream closed before the body's end: whoever reads it hears the client went away. */
  cut(): void {
    if (this.done) return;
    this.done = true;
    this.deadline = Infinity;
    this.destroy(new Error('client reset the stream mid-body'));
  }
}
