/**
 * What the pipeline (and the cache phases, and upgrades) see of a client's request and response, whichever
 * protocol carried them: Fulcrum's own HTTP/1.1 codec (request.ts, response.ts) and HTTP/2 streams (http2/)
 * implement these. Exactly what the proxy reads and calls, nothing of either wire.
 */
import type { Readable } from 'node:stream';
import type { Framing } from '../http1/body-decoder.ts';

export interface ClientRequest {
  readonly method: string;
  /** The request target as sent (HTTP/2: :path). */
  readonly url: string;
  /**
   * Flat [name, value, …], end-to-end fields only: HTTP/1.1 less what Connection nominated, HTTP/2 less its
   * pseudo-header fields, with :authority as Host and cookies in one field (RFC 9113 §8.2.3).
   */
  readonly rawHeaders: readonly string[];
  /** How the body is delimited: the one source for its framing upstream (HTTP/2: a length when Content-Length said one, else chunked). */
  readonly framing: Framing;
  /** The peer's address, IPv4-mapped IPv6 unwrapped. */
  readonly remoteAddress: string;
  /** The body, or null when the request has none. */
  readonly body: ClientBody | null;
  /** Whether it came over TLS: `X-Forwarded-Proto: https` upstream, and the https scheme in cache keys. */
  readonly secure: boolean;
  /** The protocol version it came in (Via's received-protocol, RFC 9110 §7.6.3; the access log). */
  readonly httpVersion: '1.0' | '1.1' | '2';
  /** A field's value by lower-case name, repeated fields joined (cookies with "; ", RFC 6265 §5.4). */
  header(name: string): string | undefined;
}

/** A request body as a stream, which ends in an error when the client goes away before its end. */
export interface ClientBody extends Readable {
  /** Longest pause between two reads of the client's body; set by whoever serves the request (its route's pool). */
  idleTimeout: number;
  /** Told when the client let `idleTimeout` pass without sending; the request then fails with a 408. */
  onIdleTimeout: (() => void) | undefined;
}

/** Whoever serves the request hears, once, that its response is over: sent whole, or cut (`aborted`). */
export interface ResponseListener {
  responseClosed(aborted: boolean): void;
}

export interface ClientResponse {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  /**
   * Set when the client's connection is to close after this response (draining, a client error with a body on
   * the way). HTTP/2 closes the stream instead: its body is refused with RST_STREAM NO_ERROR (RFC 9113 §8.1).
   */
  closeAfter: boolean;
  listener: ResponseListener | undefined;
  /** `headers`: flat [name, value, …]; fields of the connection (Connection, Transfer-Encoding, …) are the writer's business. */
  writeHead(status: number, headers: readonly string[]): void;
  /** Writes body bytes; false when the client is behind (wait for `onDrain`). */
  write(chunk: Buffer): boolean;
  /** Ends the response (optionally with a last chunk). */
  end(chunk?: Buffer | string): void;
  /** Cuts the response: the client sees it incomplete (a reset or a truncated body), never as whole. */
  destroy(): void;
  onDrain(cb: () => void): void;
}

/** A field's value by lower-case name in a flat [name, value, …] list, repeated fields joined. */
export function fieldValue(raw: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== name.length || raw[i]!.toLowerCase() !== name) continue;
    value = value === undefined ? raw[i + 1]! : `${value}${name === 'cookie' ? '; ' : ', '}${raw[i + 1]!}`;
  }
  return value;
}
