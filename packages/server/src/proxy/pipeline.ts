/**
 * The request pipeline: every decision Fulcrum takes about a request is a named phase below, called in order by
 * `handle`. One RequestContext travels through. Phases (numbers as in STYLE.md):
 *
 *   1 requestFilter          'continue' | 'responded'   head in normal form, request id, body limit
 *   2 routeRequest           RouteTarget | undefined    first matching route: pool and cache settings
 *   3 cacheLookup            LookupResult               cache-phases.ts: fresh hit answers; stale: revalidate or serve
 *   5 upstreamRequestFilter  void                       hop-by-hop, X-Forwarded-*, Via, request id, affinity key
 *   4 selectBackend          Attempt | FulcrumError     attempt.ts: balancer pick, circuit breaker, tried ones excluded
 *   6/10 errorWhileProxy     'retry' | 'fail'           retry only if nothing went downstream and it is replayable
 *   7 upstreamResponseFilter string[]                   load reports, hop-by-hop, Via, balancer fields, request id
 *   8 cacheAdmit             void                       cache-phases.ts: storability; the body is captured as it streams
 *  11 failToProxy            void                       the one place an error becomes a response (or stale-if-error)
 *  12 logging                void                       exactly once per request: stats, outcome, access log
 *
 * Phase 9 (responseFilter: Age, Cache-Status) is applied where a response is written: cache-phases.ts for stored
 * responses, phase 7 and 8 for proxied ones.
 */
import type { Logger } from 'pino';
import type { Outcome } from '../balancing/balancer.ts';
import type { DownstreamRequest } from '../downstream/request.ts';
import type { DownstreamResponse } from '../downstream/response.ts';
import { writeErrorResponse } from '../downstream/error-response.ts';
import { FulcrumError } from '../errors.ts';
import type { HttpCache } from '../cache/http-cache.ts';
import type { TrafficStats } from '../observability/stats.ts';
import type { Clock } from '../time.ts';
import type { Backend } from '../upstream/backend.ts';
import { NO_BODY, type UpstreamBody } from '../upstream/http1/types.ts';
import type { Pool } from '../upstream/pool.ts';
import { Refused } from '../uri.ts';
import { startAttempt, type Attempt } from './attempt.ts';
import { CachePhases, type LookupResult } from './cache-phases.ts';
import { RequestContext, type RequestOwner } from './context.ts';
import { Exchange, type ExchangeOwner } from './exchange.ts';
import { downstreamHeaders, newRequestId, scanRequestHead, upstreamHeaders } from './forwarding.ts';
import { reportedLoad } from './load-report.ts';
import type { ProxyRuntime, RouteTarget } from './runtime.ts';

/** RFC 9110 §9.2.2: methods whose repetition has the same effect, so they may be retried. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export interface PipelineDeps {
  readonly clock: Clock;
  /** Wall-clock time (epoch ms), for the cache's freshness arithmetic. */
  readonly wallClock: Clock;
  /** The response cache, used by routes that enable it. */
  readonly cache: HttpCache;
  readonly log: Logger;
  readonly stats: TrafficStats;
  /** Passive health: how a request to a backend went (a 5xx or an error is a failure). */
  readonly reportOutcome: (pool: string, backend: Backend, outcome: Outcome) => void;
}

export class Pipeline implements RequestOwner, ExchangeOwner {
  runtime: ProxyRuntime;
  /** Requests between `handle` and their logging phase. */
  inFlight = 0;
  /** Set on SIGTERM: responses close their connections. */
  draining = false;
  private readonly deps: PipelineDeps;
  private readonly cachePhases: CachePhases;

  constructor(runtime: ProxyRuntime, deps: PipelineDeps) {
    this.runtime = runtime;
    this.deps = deps;
    this.cachePhases = new CachePhases(deps);
  }

  /** Entry point for every HTTP request (not upgrades: see upgrade.ts). */
  handle(req: DownstreamRequest, res: DownstreamResponse): void {
    const ctx = new RequestContext(this, req, res, this.deps.clock.now());
    this.inFlight++;
    res.listener = ctx;
    try {
      if (this.requestFilter(ctx) === 'responded') return;
      const target = this.routeRequest(ctx);
      if (target === undefined) return this.failToProxy(ctx, new FulcrumError('FUL_ERR_NO_ROUTE'));
      const { pool } = target;
      ctx.pool = pool;
      const body = req.body;
      if (body !== null) {
        body.idleTimeout = pool.config.timeouts.client_body;
        body.onIdleTimeout = () => ctx.cancel(new FulcrumError('FUL_ERR_CLIENT_BODY_TIMEOUT'));
      }
      if (target.cache === undefined) return this.forward(ctx, pool);
      const cache = (ctx.cache = this.cachePhases.stateFor(ctx, target.cache));
      if (req.method !== 'GET' && req.method !== 'HEAD') return this.forward(ctx, pool);
      const next = this.cachePhases.lookup(ctx, cache);
      if (typeof next === 'string') return this.afterLookup(ctx, pool, next);
      next
        .then((then) => this.afterLookup(ctx, pool, then))
        // Also catches what forward() throws: a bug costs this request a 500, never an unhandled rejection.
        .catch((err: unknown) => this.failToProxy(ctx, new FulcrumError('FUL_ERR_INTERNAL', { cause: err })));
    } catch (err) {
      // A bug must cost this request a 500, never the process and every other request with it.
      this.failToProxy(ctx, new FulcrumError('FUL_ERR_INTERNAL', { cause: err }));
    }
  }

  /** 1. Reads the head once (in normal form), assigns the request id, enforces the body limit. */
  private requestFilter(ctx: RequestContext): 'continue' | 'responded' {
    const head = scanRequestHead(ctx.req.method, ctx.req.url, ctx.req.rawHeaders);
    if (head instanceof Refused) {
      ctx.requestId = newRequestId();
      this.failToProxy(ctx, new FulcrumError('FUL_ERR_BAD_REQUEST', { message: head.reason }));
      return 'responded';
    }
    ctx.head = head;
    ctx.requestId = head.requestId ?? newRequestId();
    const framing = ctx.req.framing;
    if (framing.kind === 'length' && framing.length > this.runtime.limits.max_body_size) {
      this.failToProxy(ctx, new FulcrumError('FUL_ERR_BODY_TOO_LARGE'));
      return 'responded';
    }
    return 'continue';
  }

  /** 2. The first route whose conditions hold, else the default pool. */
  private routeRequest(ctx: RequestContext): RouteTarget | undefined {
    return this.runtime.route(ctx.req, ctx.head);
  }

  /** After 3: the backend's turn, unless the cache answered (and then, within stale-while-revalidate, refreshes). */
  private afterLookup(ctx: RequestContext, pool: Pool, result: LookupResult): void {
    if (result === 'continue') return this.forward(ctx, pool);
    const cache = ctx.cache;
    if (result === 'refresh' && cache !== undefined) this.cachePhases.refresh(ctx, pool, cache, this.upstreamRequestFilter(ctx, pool));
  }

  /** To the backends: the upstream head, then the first try. */
  private forward(ctx: RequestContext, pool: Pool): void {
    pool.retryBudget.recordRequest();
    const headers = this.upstreamRequestFilter(ctx, pool);
    // Revalidating a stale entry: our conditionals replace the client's (the lookup chose them).
    const revalidation = ctx.cache?.revalidationHeaders;
    if (revalidation !== undefined) headers.push(...revalidation);
    this.attempt(ctx, pool);
  }

  /** 5. The header list for the backend, built once and reused by retries; the balancer's affinity key. */
  private upstreamRequestFilter(ctx: RequestContext, pool: Pool): string[] {
    ctx.key = pool.balancer.keyOf?.(ctx);
    return (ctx.upstreamHeaders = upstreamHeaders(ctx.req.rawHeaders, ctx.head, {
      clientIp: ctx.clientIp,
      trusted: this.runtime.isTrusted(ctx.clientIp),
      requestId: ctx.requestId,
      secure: ctx.req.secure,
    }));
  }

  /** 4, then one try on the backend picked; a failure comes back through `attemptFailed`. */
  private attempt(ctx: RequestContext, pool: Pool): void {
    const attempt = startAttempt(pool, { key: ctx.key, exclude: ctx.tried }, this.deps);
    if (attempt instanceof FulcrumError) return this.failToProxy(ctx, ctx.error ?? attempt);
    ctx.attempt++;
    ctx.backend = attempt.backend;
    if (ctx.attempt === 1 && pool.config.timeouts.request > 0) {
      ctx.deadline = setTimeout(onDeadline, pool.config.timeouts.request, ctx);
    }
    attempt.dispatch(
      {
        method: ctx.req.method,
        path: ctx.head.target,
        headers: attempt.headersFor(ctx.head, ctx.upstreamHeaders ?? []),
        body: upstreamBodyOf(ctx.req),
        // A chunked body has no Content-Length for requestFilter to check: it is counted as it flows.
        maxBodyBytes: this.runtime.limits.max_body_size,
        headersTimeout: pool.config.timeouts.response,
        bodyTimeout: pool.config.timeouts.idle,
      },
      new Exchange(this, ctx, attempt),
    );
  }

  exchangeEnded(ex: Exchange, outcome: Outcome): void {
    ex.attempt.end(outcome);
  }

  /** 6/10. A try failed before or during the response. Retries when it is still safe; else fails the request. */
  attemptFailed(ex: Exchange, err: FulcrumError): void {
    const { ctx, attempt } = ex;
    const { pool, backend } = attempt;
    const error = ctx.cancelled ?? err;
    attempt.end(error.source === 'backend' ? 'failure' : 'success');
    if (this.errorWhileProxy(ctx, pool, error) === 'retry') {
      (ctx.tried ??= new Set()).add(backend);
      ctx.error = error;
      this.deps.stats.retry(pool.name, backend.id);
      this.deps.log.debug({ reqId: ctx.requestId, backend: backend.id, code: error.code, attempt: ctx.attempt }, 'retrying');
      return this.attempt(ctx, pool);
    }
    this.failToProxy(ctx, error);
  }

  /**
   * 10. Whether a failed try may go again on another backend: only when nothing went downstream yet, the request
   * has no body (a streamed body cannot be replayed), the error's retry rule allows it (catalogue in errors.ts),
   * attempts remain and the pool's retry budget has room.
   */
  private errorWhileProxy(ctx: RequestContext, pool: Pool, error: FulcrumError): 'retry' | 'fail' {
    if (ctx.responseStarted || ctx.cancelled !== undefined || error.retry === 'no' || ctx.req.body !== null) return 'fail';
    // 'if-reused': a reset before any response byte. Safe to repeat for idempotent methods; for the others only
    // when the connection was a reused keep-alive one, which the backend closed before reading the request.
    if (error.retry === 'if-reused' && !error.reused && !IDEMPOTENT.has(ctx.req.method)) return 'fail';
    if (ctx.attempt > pool.config.retries.attempts) return 'fail';
    return pool.retryBudget.tryAcquire() ? 'retry' : 'fail';
  }

  /** 7 (and 8 on a caching route): the backend's response head, before it goes downstream. */
  responseHead(ex: Exchange, status: number, raw: string[], contentLength: number): string[] | 'answered' {
    const { ctx, attempt } = ex;
    const cache = ctx.cache;
    if (status === 304 && cache !== undefined && this.cachePhases.revalidated(ctx, cache, raw)) return 'answered';
    const headers = this.upstreamResponseFilter(ctx, attempt, status, raw, contentLength);
    if (cache !== undefined) this.cachePhases.admit(cache, status, raw, headers);
    ctx.status = status;
    ctx.responseStarted = true;
    return headers;
  }

  /** 7. The header list to send: load reports read, hop-by-hop fields dropped, the balancer's own fields added. */
  private upstreamResponseFilter(ctx: RequestContext, attempt: Attempt, status: number, raw: readonly string[], contentLength: number): string[] {
    const { balancer } = attempt.pool;
    if (balancer.onLoadReport !== undefined) {
      const load = reportedLoad(raw);
      if (load !== undefined) balancer.onLoadReport(attempt.backend, load);
    }
    const headers = downstreamHeaders(raw, status, contentLength);
    headers.push('x-request-id', ctx.requestId);
    const fields = balancer.responseFields?.(attempt.backend, ctx.key);
    if (fields !== undefined) headers.push(...fields);
    if (this.draining) ctx.res.closeAfter = true;
    return headers;
  }

  bodyComplete(ex: Exchange): void {
    const cache = ex.ctx.cache;
    if (cache !== undefined) this.cachePhases.complete(cache);
  }

  /** 11. Turns an error into a response: status, a short body with the code and request id. */
  failToProxy(ctx: RequestContext, error: FulcrumError): void {
    ctx.error = error;
    const cache = ctx.cache;
    if (cache !== undefined) {
      this.cachePhases.release(cache);
      if (this.cachePhases.serveStale(ctx, cache, error)) return;
    }
    ctx.outcome = error.source === 'client' ? (error.code === 'FUL_ERR_CLIENT_ABORTED' ? 'client-aborted' : 'rejected') : 'failed';
    const { res } = ctx;
    if (res.writableEnded || res.destroyed) return;
    if (res.headersSent) {
      // Too late for a status: cut the response so that the client sees it incomplete, not whole.
      res.destroy();
      return;
    }
    ctx.status = error.status;
    ctx.responseStarted = true;
    // A client's error with a body on the way: close rather than read what may be a flood. Otherwise an
    // unread body is dropped by the connection, which then carries on.
    if ((error.source === 'client' && ctx.req.body !== null) || this.draining) res.closeAfter = true;
    writeErrorResponse(res, error, ctx.requestId);
  }

  /** 12. Exactly once per request, when its response closed: stats, access log. */
  logging(ctx: RequestContext, aborted: boolean): void {
    if (ctx.finished) return;
    ctx.finished = true;
    if (ctx.cache !== undefined) this.cachePhases.closed(ctx.cache, aborted);
    this.inFlight--;
    if (ctx.deadline !== undefined) clearTimeout(ctx.deadline);
    const ms = this.deps.clock.now() - ctx.startedAt;
    if (aborted && ctx.error === undefined) {
      ctx.error = new FulcrumError('FUL_ERR_CLIENT_ABORTED');
      ctx.outcome = 'client-aborted';
    }
    const status = ctx.outcome === 'client-aborted' ? 499 : ctx.status;
    const poolName = ctx.pool?.name ?? '-';
    this.deps.stats.record(poolName, ctx.backend?.id, status, ms, ctx.error?.code);
    if (this.runtime.accessLog) {
      this.deps.log.info(
        {
          reqId: ctx.requestId,
          method: ctx.req.method,
          url: ctx.req.url,
          host: ctx.head.hostHeader,
          client: ctx.clientIp,
          status,
          ms: Math.round(ms * 1000) / 1000,
          pool: poolName,
          backend: ctx.backend?.id,
          attempts: ctx.attempt,
          code: ctx.error?.code,
        },
        'request',
      );
    }
    if (ctx.error !== undefined && ctx.error.source !== 'client') {
      this.deps.log.warn({ reqId: ctx.requestId, code: ctx.error.code, err: ctx.error.cause ?? ctx.error }, ctx.error.message);
    }
  }
}

/** Methods whose request means something with content: without a body they still say `content-length: 0`. */
const hasContentMethod = (m: string) => m === 'POST' || m === 'PUT' || m === 'PATCH';

/** The request body as the backend gets it, framed from what the parser decided (never from forwarded fields). */
function upstreamBodyOf(req: DownstreamRequest): UpstreamBody {
  const { framing, body } = req;
  if (body === null || framing.kind === 'none' || framing.kind === 'until-close') {
    return hasContentMethod(req.method) ? EMPTY_BODY : NO_BODY;
  }
  return framing.kind === 'length' ? { kind: 'length', length: framing.length, stream: body } : { kind: 'chunked', stream: body };
}

const EMPTY_BODY: UpstreamBody = { kind: 'empty' };

function onDeadline(ctx: RequestContext): void {
  ctx.deadline = undefined;
  ctx.cancel(new FulcrumError('FUL_ERR_REQUEST_TIMEOUT'));
}
