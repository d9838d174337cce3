/** One try of a request on one backend: the upstream client's handler, streaming the response downstream. */
import type { Outcome } from '../balancing/balancer.ts';
import type { FulcrumError } from '../errors.ts';
import type { ExchangeControl, ExchangeHandler } from '../upstream/http1/types.ts';
import type { Attempt } from './attempt.ts';
import type { RequestContext } from './context.ts';

/** The phases an exchange hands its events to (the pipeline). */
export interface ExchangeOwner {
  /** 7 and 8: the header list of the response head; 'answered' when the request was answered otherwise (a 304 revalidated a stored response). */
  responseHead(ex: Exchange, status: number, headers: string[], contentLength: number): string[] | 'answered';
  /** The body came whole (before it ends downstream): what the cache admitted is stored. */
  bodyComplete(ex: Exchange): void;
  /** The try is over, after its response went downstream whole. */
  exchangeEnded(ex: Exchange, outcome: Outcome): void;
  /** 6/10. The try failed before or during the response. */
  attemptFailed(ex: Exchange, error: FulcrumError): void;
}

/**
 * The handler of one try on one backend: streams the response downstream with backpressure.
 * A class rather than closures, so that a request allocates one object here.
 */
export class Exchange implements ExchangeHandler {
  readonly owner: ExchangeOwner;
  readonly ctx: RequestContext;
  readonly attempt: Attempt;
  private status = 0;
  private paused = false;

  constructor(owner: ExchangeOwner, ctx: RequestContext, attempt: Attempt) {
    this.owner = owner;
    this.ctx = ctx;
    this.attempt = attempt;
  }

  onStart(control: ExchangeControl): void {
    this.ctx.controller = control;
    if (this.ctx.cancelled !== undefined) control.abort(this.ctx.cancelled);
  }

  onResponseStart(status: number, headers: string[], contentLength: number): void {
    this.status = status;
    const out = this.owner.responseHead(this, status, headers, contentLength);
    if (out !== 'answered') this.ctx.res.writeHead(status, out);
  }

  onResponseData(chunk: Buffer, last: boolean): void {
    const { ctx } = this;
    ctx.cache?.pendingStore?.capture.add(chunk);
    // The last slice goes out with end(): one pass through Node's outgoing path instead of write() then end().
    if (last) return void ctx.res.end(chunk);
    if (!ctx.res.write(chunk) && !this.paused) {
      const control = ctx.controller;
      if (control === null) return;
      this.paused = true;
      control.pause();
      ctx.res.onDrain(() => {
        this.paused = false;
        ctx.controller?.resume();
      });
    }
  }

  onResponseEnd(): void {
    this.ctx.controller = null;
    this.owner.bodyComplete(this);
    if (!this.ctx.res.writableEnded) this.ctx.res.end();
    // RFC 9110 §15.6: a 5xx says the backend could not serve; passive health counts it as a failure.
    this.owner.exchangeEnded(this, this.status >= 500 ? 'failure' : 'success');
  }

  onError(error: FulcrumError): void {
    this.ctx.controller = null;
    this.owner.attemptFailed(this, error);
  }
}
