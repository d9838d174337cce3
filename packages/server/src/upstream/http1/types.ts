/** The contract between the pipeline and the upstream HTTP/1.1 client. */
import type { Readable } from 'node:stream';
import type { FulcrumError } from '../../errors.ts';

export interface UpstreamRequest {
  readonly method: string;
  /** Origin-form target: path and query. */
  readonly path: string;
  /** Flat [name, value, …], hop-by-hop fields already removed, Host included. */
  readonly headers: readonly string[];
  /** The body and its framing on the wire; `headers` carry no Content-Length or Transfer-Encoding. */
  readonly body: UpstreamBody;
  /** Largest body accepted; beyond it the request fails with FUL_ERR_BODY_TOO_LARGE. */
  readonly maxBodyBytes: number;
  /** Time from the request fully written (its body included) to the response head. */
  readonly headersTimeout: number;
  /** Longest pause between two reads of the response body. */
  readonly bodyTimeout: number;
}

/**
 * A request body as it goes to the backend, framed from what Fulcrum's parser decided about the client's request,
 * never from the header list: `none` sends no framing field, `empty` sends `content-length: 0` (a POST without a
 * body), `length` sends exactly `length` bytes under that Content-Length, `chunked` re-chunks the stream.
 */
export type UpstreamBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'empty' }
  | { readonly kind: 'length'; readonly length: number; readonly stream: Readable }
  | { readonly kind: 'chunked'; readonly stream: Readable };

export const NO_BODY: UpstreamBody = { kind: 'none' };

/** Handed to the handler when the request is assigned; stays valid until the end or error callback. */
export interface ExchangeControl {
  /** Ends the exchange now: the connection is closed and onError(reason) is called. */
  abort(reason: FulcrumError): void;
  /** Backpressure on the response body. */
  pause(): void;
  resume(): void;
}

export interface ExchangeHandler {
  onStart(control: ExchangeControl): void;
  /** `headers`: flat [name, value, …] as received; `contentLength` as the parser framed the body (ResponseHead). */
  onResponseStart(status: number, headers: string[], contentLength: number): void;
  /** A slice of the body; valid only during the call unless copied (Node's writes keep a reference, which is fine). */
  onResponseData(chunk: Buffer, last: boolean): void;
  onResponseEnd(): void;
  /** Called at most once, and never after onResponseEnd. */
  onError(error: FulcrumError): void;
}
