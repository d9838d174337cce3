/** A request as the downstream connection hands it to the pipeline: its head, and its body as a stream. */
import { Readable } from 'node:stream';
import type { RequestHead } from '../http1/request-parser.ts';

export class DownstreamRequest {
  readonly method: string;
  /** The request target as sent. */
  readonly url: string;
  /** Flat [name, value, …] as received. */
  readonly rawHeaders: readonly string[];
  /** The peer's address, IPv4-mapped IPv6 unwrapped. */
  readonly remoteAddress: string;
  /** The body, or null when the request has none. */
  readonly body: RequestBody | null;

  constructor(head: RequestHead, remoteAddress: string, body: RequestBody | null) {
    this.method = head.method;
    this.url = head.target;
    this.rawHeaders = head.fields.raw;
    this.remoteAddress = remoteAddress;
    this.body = body;
  }

  /** A field's value by lower-case name, repeated fields joined (cookies with "; ", RFC 6265 §5.4). */
  header(name: string): string | undefined {
    let value: string | undefined;
    const raw = this.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.length !== name.length || raw[i]!.toLowerCase() !== name) continue;
      value = value === undefined ? raw[i + 1]! : `${value}${name === 'cookie' ? '; ' : ', '}${raw[i + 1]!}`;
    }
    return value;
  }
}

/**
 * A request body fed by the connection as it arrives. Reading pauses the socket when the consumer is behind
 * (backpressure), and the first read sends "100 Continue" when the client asked for it (RFC 9110 §10.1.1).
 */
export class RequestBody extends Readable {
  private readonly onWanted: () => void;

  constructor(onWanted: () => void) {
    super();
    this.onWanted = onWanted;
    // The consumer (the upstream connection) handles errors when it reads the body; a body nobody reads (the
    // request was refused early) must not turn its client's disconnect into an uncaught error.
    this.on('error', () => {});
  }

  override _read(): void {
    this.onWanted();
  }
}
