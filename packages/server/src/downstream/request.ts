/** A request as the downstream connection hands it to the pipeline: its head, and its body as a stream. */
import { Readable } from 'node:stream';
import type { Framing } from '../http1/body-decoder.ts';
import { withoutNominated } from '../http1/fields.ts';
import type { RequestHead } from '../http1/request-parser.ts';

export class DownstreamRequest {
  readonly method: string;
  /** The request target as sent. */
  readonly url: string;
  /**
   * Flat [name, value, …] as received, less the fields the client's Connection field nominated (end-to-end view:
   * see http1/fields.ts withoutNominated). Framing fields are here as sent; `framing` is what they meant.
   */
  readonly rawHeaders: readonly string[];
  /** How the body is delimited, as the parser decided: the one source for the body's framing upstream. */
  readonly framing: Framing;
  /** The peer's address, IPv4-mapped IPv6 unwrapped. */
  readonly remoteAddress: string;
  /** The body, or null when the request has none. */
  readonly body: RequestBody | null;
  /** Whether it came over TLS: `X-Forwarded-Proto: https` upstream, and the https scheme in cache keys. */
  readonly secure: boolean;

  constructor(head: RequestHead, remoteAddress: string, body: RequestBody | null, secure = false) {
    this.method = head.method;
    this.url = head.target;
    this.rawHeaders = withoutNominated(head.fields.raw, head.fields.connection);
    this.framing = head.framing;
    this.remoteAddress = remoteAddress;
    this.body = body;
    this.secure = secure;
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

/** nginx's client_body_timeout default, until the request's route says otherwise. */
const DEFAULT_BODY_TIMEOUT_MS = 60_000;

/**
 * A request body fed by the connection as it arrives. Reading pauses the socket when the consumer is behind
 * (backpressure), and the first read sends "100 Continue" when the client asked for it (RFC 9110 §10.1.1).
 */
export class RequestBody extends Readable {
  private readonly onWanted: () => void;
  /** Longest pause between two reads of the client's body; set by whoever serves the request (its route's pool). */
  idleTimeout = DEFAULT_BODY_TIMEOUT_MS;
  /** Told when the client let `idleTimeout` pass without sending; the connection then closes after the answer. */
  onIdleTimeout: (() => void) | undefined = undefined;

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
