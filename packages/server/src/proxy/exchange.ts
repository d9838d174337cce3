/** One try of a request on one backend: the upstream client's handler, streaming the response downstream. */
import type { FulcrumError } from '../errors.ts';
import type { Backend } from '../upstream/backend.ts';
import type { ExchangeControl, ExchangeHandler } from '../upstream/http1/types.ts';
import type { Pool } from '../upstream/pool.ts';
import type { RequestContext } from './context.ts';
import type { Pipeline } from './pipeline.ts';

/**
 * The handler of one try on one backend: streams the response downstream with backpressure.
 * A class rather than closures, so that a request allocates one object here.
 */
export class Exchange implements ExchangeHandler {
  readonly pipeline: Pipeline;
  readonly ctx: RequestContext;
  readonly pool: Pool;
  readonly backend: Backend;
  readonly startedAt: number;
  queued = false;
  private status = 0;
  private paused = false;

  constructor(pipeline: Pipeline, ctx: RequestContext, pool: Pool, backend: Backend, startedAt: number) {
    this.pipeline = pipeline;
    this.ctx = ctx;
    this.pool = pool;
    this.backend = backend;
    this.startedAt = startedAt;
  }

  onStart(control: ExchangeControl): void {
    this.ctx.controller = control;
    if (this.ctx.cancelled !== undefined) control.abort(this.ctx.cancelled);
  }

  onResponseStart(status: number, headers: string[], contentLength: number): void {
    this.status = status;
    const { ctx } = this;
    if (status === 304 && ctx.cached !== undefined && this.pipeline.revalidatedFromCache(ctx, headers)) return;
    ctx.res.writeHead(status, this.pipeline.upstreamResponseFilter(ctx, status, headers, contentLength));
  }

  onResponseData(chunk: Buffer, last: boolean): void {
    const { res } = this.ctx;
    this.ctx.pendingStore?.capture.add(chunk);
    // The last slice goes out with end(): one pass through Node's outgoing path instead of write() then end().
    if (last) return void res.end(chunk);
    if (!res.write(chunk) && !this.paused) {
      this.paused = true;
      this.ctx.controller!.pause();
      res.onDrain(() => {
        this.paused = false;
        this.ctx.controller?.resume();
      });
    }
  }

  onResponseEnd(): void {
    this.ctx.controller = null;
    if (this.ctx.cache !== undefined) this.pipeline.cacheComplete(this.ctx);
    if (!this.ctx.res.writableEnded) this.ctx.res.end();
    // RFC 9110 §15.6: a 5xx says the backend could not serve; passive health counts it as a failure.
    this.pipeline.endExchange(this, this.status >= 500 ? 'failure' : 'success');
  }

  onError(error: FulcrumError): void {
    this.ctx.controller = null;
    this.pipeline.attemptFailed(this, error);
  }
}
