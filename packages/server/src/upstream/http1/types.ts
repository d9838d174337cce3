/** The contract between the pipeline and the upstream HTTP/1.1 client. */
import type { Readable } from 'node:stream';
import type { FulcrumError } from '../../errors.ts';

export interface UpstreamRequest {
  readonly method: string;
  /** Origin-form target: path and query. */
  readonly path: string;
  /** Flat [name, value, …], hop-by-hop fields already removed, Host included. */
  readonly headers: readonly string[];
  /** The request body, or null. Without a content-length header it is sent chunked. */
  readonly body: Readable | null;
  /** Whether headers carry a Content-Length (then the body is sent as is). */
  readonly hasContentLength: boolean;
  /** Largest body accepted; beyond it the request fails with FUL_ERR_BODY_TOO_LARGE. */
  readonly maxBodyBytes: number;
  /** Time from the request written to the response head. */
  readonly headersTimeout: number;
  /** Longest pause between two reads of the response body. */
  readonly bodyTimeout: number;
}

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
  /** `headers`: flat [name, value, …] as received. */
  onResponseStart(status: number, headers: string[]): void;
  /** A slice of the body; valid only during the call unless copied (Node's writes keep a reference, which is fine). */
  onResponseData(chunk: Buffer, last: boolean): void;
  onResponseEnd(): void;
  /** Called at most once, and never after onResponseEnd. */
  onError(error: FulcrumError): void;
}
