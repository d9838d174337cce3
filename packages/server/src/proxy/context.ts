/** The one object carried through the pipeline for a request: fixed shape, created once per request. */
import type { DownstreamRequest } from '../downstream/request.ts';
import type { DownstreamResponse, ResponseListener } from '../downstream/response.ts';
import { FulcrumError } from '../errors.ts';
import type { Backend } from '../upstream/backend.ts';
import type { ExchangeControl } from '../upstream/http1/types.ts';
import type { Pool } from '../upstream/pool.ts';
import type { RequestHead } from './forwarding.ts';
import type { RouteCacheConfig } from '../config/schema.ts';
import type { Flight } from '../cache/flight.ts';
import type { StoredResponse } from '../cache/store.ts';
import type { PendingStore } from './cache-support.ts';
import type { Pipeline } from './pipeline.ts';

/** How a request ended, for logs and metrics. */
export type RequestOutcome = 'proxied' | 'failed' | 'client-aborted' | 'rejected';

export class RequestContext implements ResponseListener {
  readonly pipeline: Pipeline;
  readonly req: DownstreamRequest;
  readonly res: DownstreamResponse;
  readonly startedAt: number;
  head: RequestHead | undefined = undefined;
  requestId = '';
  clientIp = '';
  pool: Pool | undefined = undefined;
  backend: Backend | undefined = undefined;
  /** Backends already tried; allocated on the first retry. */
  tried: Set<Backend> | undefined = undefined;
  /** 1 for the first try. */
  attempt = 0;
  /** Headers sent to the backend, built once and reused by retries. */
  upstreamHeaders: string[] | undefined = undefined;
  hashKey: string | undefined = undefined;
  stickyValue: string | undefined = undefined;
  /** The controller of the exchange in progress, to abort it. */
  controller: ExchangeControl | null = null;
  /** Set once the response head went downstream: from then on nothing can be retried or replaced. */
  responseStarted = false;
  status = 0;
  error: FulcrumError | undefined = undefined;
  outcome: RequestOutcome = 'proxied';
  /** Whole-request deadline timer, when pool.timeouts.request is set. */
  deadline: NodeJS.Timeout | undefined = undefined;
  /** Set when the client went away or the deadline passed. */
  cancelled: FulcrumError | undefined = undefined;
  finished = false;
  /** The route's cache settings, when it caches. */
  cache: RouteCacheConfig | undefined = undefined;
  primaryKey: string | undefined = undefined;
  /** The key the response is looked up and stored under (the primary key, or its Vary secondary key). */
  cacheKey: string | undefined = undefined;
  /** A stored response that is stale: revalidated with the backend, or served if it fails (stale-if-error). */
  cached: StoredResponse | undefined = undefined;
  /** The conditional fields that revalidate `cached`. */
  revalidationHeaders: string[] | undefined = undefined;
  /** Set when this request leads the fetch that concurrent misses for its key wait on. */
  flight: Flight | undefined = undefined;
  /** The response being stored as it streams past. */
  pendingStore: PendingStore | undefined = undefined;
  /** Cache-Status for a response that went through the cache (RFC 9211). */
  cacheStatus: string | undefined = undefined;
  servedFromCache = false;

  constructor(pipeline: Pipeline, req: DownstreamRequest, res: DownstreamResponse, now: number) {
    this.pipeline = pipeline;
    this.req = req;
    this.res = res;
    this.startedAt = now;
  }

  /** The response is over: sent whole, or cut (the client went away, or it was destroyed). */
  responseClosed(aborted: boolean): void {
    if (aborted && this.controller !== null) {
      this.cancelled = new FulcrumError('FUL_ERR_CLIENT_ABORTED');
      this.controller.abort(this.cancelled);
    }
    this.pipeline.logging(this, aborted);
  }
}
