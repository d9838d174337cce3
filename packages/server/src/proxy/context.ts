/** The one object carried through the pipeline for a request: fixed shape, created once per request. */
import type { RequestView } from '../balancing/balancer.ts';
import type { DownstreamRequest } from '../downstream/request.ts';
import type { DownstreamResponse, ResponseListener } from '../downstream/response.ts';
import { FulcrumError } from '../errors.ts';
import type { Backend } from '../upstream/backend.ts';
import type { ExchangeControl } from '../upstream/http1/types.ts';
import type { Pool } from '../upstream/pool.ts';
import type { CacheState } from './cache-state.ts';
import { unscannedHead, type ScannedHead } from './forwarding.ts';

/** How a request ended, for logs and metrics. */
export type RequestOutcome = 'proxied' | 'failed' | 'client-aborted' | 'rejected';

/** What a request's end reports to: the pipeline's last phases. */
export interface RequestOwner {
  /** 11. Turns an error into a response. */
  failToProxy(ctx: RequestContext, error: FulcrumError): void;
  /** 12. Exactly once per request, when its response closed. */
  logging(ctx: RequestContext, aborted: boolean): void;
}

export class RequestContext implements ResponseListener, RequestView {
  readonly owner: RequestOwner;
  readonly req: DownstreamRequest;
  readonly res: DownstreamResponse;
  readonly startedAt: number;
  readonly clientIp: string;
  /** The head as requestFilter read it, in normal form; until then (or when it refused it), the target as received. */
  head: ScannedHead;
  requestId = '';
  pool: Pool | undefined = undefined;
  /** The backend of the latest try. */
  backend: Backend | undefined = undefined;
  /** Backends already tried; allocated on the first retry. */
  tried: Set<Backend> | undefined = undefined;
  /** 1 for the first try. */
  attempt = 0;
  /** Headers sent to the backend, built once and reused by retries. */
  upstreamHeaders: string[] | undefined = undefined;
  /** The affinity key the pool's balancer read (a hash key, a sticky token). */
  key: string | undefined = undefined;
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
  /** Set on a route that caches. */
  cache: CacheState | undefined = undefined;

  constructor(owner: RequestOwner, req: DownstreamRequest, res: DownstreamResponse, now: number) {
    this.owner = owner;
    this.req = req;
    this.res = res;
    this.startedAt = now;
    this.clientIp = req.remoteAddress;
    this.head = unscannedHead(req.url);
  }

  get path(): string {
    return this.head.path;
  }

  header(name: string): string | undefined {
    return this.req.header(name);
  }

  /** The response is over: sent whole, or cut (the client went away, or it was destroyed). */
  responseClosed(aborted: boolean): void {
    if (aborted && this.controller !== null) {
      this.cancelled = new FulcrumError('FUL_ERR_CLIENT_ABORTED');
      this.controller.abort(this.cancelled);
    }
    this.owner.logging(this, aborted);
  }

  /** Ends the request from outside its exchange (a timeout): `error` is what it fails with, not the backend's doing. */
  cancel(error: FulcrumError): void {
    if (this.finished || this.res.writableEnded || this.cancelled !== undefined) return;
    this.cancelled = error;
    if (this.controller !== null) this.controller.abort(error);
    else this.owner.failToProxy(this, error);
  }
}
