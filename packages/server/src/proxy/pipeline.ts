/**
 * The request pipeline: every decision Fulcrum takes about a request is a named phase below, called in order by
 * `handle`. One RequestContext travels through. Phases (numbers as in STYLE.md; 3 and 8 arrive with the cache):
 *
 *   1 requestFilter          'continue' | 'responded'   request id, limits
 *   2 routeRequest           RouteTarget | undefined    first matching route: pool and cache settings
 *   3 cacheLookup            'responded' | 'continue'   key, Vary, coalescing; fresh hit answers; stale: revalidate or serve
 *   4 selectBackend          Backend | FulcrumError     balancer pick, circuit breaker, exclusion of tried ones
 *   5 upstreamRequestFilter  void                       hop-by-hop, X-Forwarded-*, Via, request id
 *   6/10 errorWhileProxy     'retry' | 'fail'           retry only if nothing went downstream and it is replayable
 *   7 upstreamResponseFilter string[]                   load reports, hop-by-hop, Via, sticky cookie, request id
 *   8 cacheAdmit             void                       storability; the body is captured as it streams down
 *  11 failToProxy            void                       the one place an error becomes a response
 *  12 logging                void                       exactly once per request: stats, outcome, access log
 */
import type { Logger } from 'pino';
import type { DownstreamRequest } from '../downstream/request.ts';
import type { DownstreamResponse } from '../downstream/response.ts';
import { FulcrumError } from '../errors.ts';
import type { Clock } from '../time.ts';
import type { Backend } from '../upstream/backend.ts';
import { NO_BODY, type UpstreamBody } from '../upstream/http1/types.ts';
import type { Pool } from '../upstream/pool.ts';
import type { TrafficStats } from '../observability/stats.ts';
import { stickyToken } from '../balancing/sticky.ts';
import { RequestContext } from './context.ts';
import { writeErrorResponse } from './error-response.ts';
import { Exchange } from './exchange.ts';
import { downstreamHeaders, newRequestId, scanRequestHead, upstreamHeaders } from './forwarding.ts';
import { cookieValue } from './request-keys.ts';
import { reportedLoad } from './load-report.ts';
import type { ProxyRuntime, RouteTarget } from './runtime.ts';
import { sharedFor, type Landed } from '../cache/flight.ts';
import type { HttpCache } from '../cache/http-cache.ts';
import { purgeUrl } from '../cache/http-cache.ts';
import { primaryKey, varyKey } from '../cache/key.ts';
import { Refused } from '../uri.ts';
import { canServeStaleOnError, invalidatedUrls, lookup, revalidated, ttlOf } from '../cache/policy.ts';
import { cacheStatus } from '../cache/cache-status.ts';
import type { StoredResponse } from '../cache/store.ts';
import { admit, cacheRequestOf, refreshInBackground, serveFromCache, storeEntry, VARY_STUB_STATUS } from './cache-support.ts';

/** RFC 9110 §9.2.2: methods whose repetition has the same effect, so they may be retried. */
/** What cacheLookup decided: answered, go to the backend, or (a store that answers later) a promise of either. */
type Lookup = 'responded' | 'continue' | Promise<'responded' | 'continue'>;

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
  readonly reportOutcome: (pool: string, backend: Backend, outcome: 'success' | 'failure') => void;
}

export class Pipeline {
  runtime: ProxyRuntime;
  /** Requests between `handle` and their logging phase. */
  inFlight = 0;
  private readonly deps: PipelineDeps;

  constructor(runtime: ProxyRuntime, deps: PipelineDeps) {
    this.runtime = runtime;
    this.deps = deps;
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
      ctx.pool = target.pool;
      ctx.cache = target.cache;
      const body = ctx.req.body;
      if (body !== null) {
        body.idleTimeout = target.pool.config.timeouts.client_body;
        body.onIdleTimeout = () => cancel(ctx, new FulcrumError('FUL_ERR_CLIENT_BODY_TIMEOUT'));
      }
      if (ctx.cache !== undefined && (ctx.req.method === 'GET' || ctx.req.method === 'HEAD')) {
        const next = this.cacheLookup(ctx);
        if (next === 'responded') return;
        if (next !== 'continue') {
          next
            .then((then) => then === 'continue' && this.forward(ctx))
            // Also catches what forward() throws: a bug costs this request a 500, never an unhandled rejection.
            .catch((err: unknown) => this.failToProxy(ctx, new FulcrumError('FUL_ERR_INTERNAL', { cause: err })));
          return;
        }
      }
      this.forward(ctx);
    } catch (err) {
      // A bug must cost this request a 500, never the process and every other request with it.
      this.failToProxy(ctx, new FulcrumError('FUL_ERR_INTERNAL', { cause: err }));
    }
  }

  /** 1. Reads the head once, assigns the request id, enforces the body limit. */
  private requestFilter(ctx: RequestContext): 'continue' | 'responded' {
    const head = scanRequestHead(ctx.req.method, ctx.req.url, ctx.req.rawHeaders);
    ctx.clientIp = ctx.req.remoteAddress;
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

  /** To the backends: the upstream head, then the first try. */
  private forward(ctx: RequestContext): void {
    const pool = ctx.pool!;
    pool.retryBudget.recordRequest();
    this.upstreamRequestFilter(ctx, pool);
    this.attempt(ctx, pool);
  }

  /** 2. The first route whose conditions hold, else the default pool. */
  private routeRequest(ctx: RequestContext): RouteTarget | undefined {
    return this.runtime.route(ctx.req, ctx.head!);
  }

  /** 5. The header list for the backend, built once and reused by retries; keys for hashing and stickiness. */
  private upstreamRequestFilter(ctx: RequestContext, pool: Pool): void {
    const trusted = this.runtime.isTrusted(ctx.clientIp);
    ctx.upstreamHeaders = upstreamHeaders(ctx.req.rawHeaders, ctx.head!, {
      clientIp: ctx.clientIp,
      trusted,
      requestId: ctx.requestId,
      secure: ctx.req.secure,
    });
    // Revalidating a stale entry: our conditionals replace the client's (cacheLookup chose them).
    if (ctx.revalidationHeaders !== undefined) ctx.upstreamHeaders.push(...ctx.revalidationHeaders);
    const extra = this.runtime.keysOf(pool);
    if (extra.hashKey !== undefined) ctx.hashKey = extra.hashKey(ctx.req, ctx.clientIp, ctx.head!.path);
    if (extra.stickyCookie !== undefined) ctx.stickyValue = cookieValue(ctx.req.header('cookie'), extra.stickyCookie);
  }

  /**
   * 3. Looks the request up in the cache: a fresh entry answers at once; a stale one within stale-while-revalidate
   * answers and is refreshed in the background; a stale one past it is revalidated (conditional headers added).
   * A miss joins a fetch already under way for the same key (coalescing), or leads one. Synchronous when the
   * store answers at once (memory), a promise otherwise.
   */
  private cacheLookup(ctx: RequestContext): Lookup {
    const head = ctx.head!;
    const q = head.target.indexOf('?');
    // Keyed on what is forwarded: the authority (a non-default port kept) and path, both in normal form.
    const primary = primaryKey(ctx.req.method, head.hostHeader ?? '', head.path, q < 0 ? '' : head.target.slice(q + 1), ctx.cache!, ctx.req.rawHeaders, ctx.req.secure);
    ctx.primaryKey = primary;
    const entry = this.deps.cache.lookup(primary);
    return entry instanceof Promise ? entry.then((e) => this.afterPrimary(ctx, primary, e)) : this.afterPrimary(ctx, primary, entry);
  }

  /** A Vary index under the primary key sends the lookup on to the request's variant. */
  private afterPrimary(ctx: RequestContext, primary: string, entry: StoredResponse | undefined): Lookup {
    if (entry === undefined || entry.status !== VARY_STUB_STATUS) return this.cacheDecide(ctx, primary, entry);
    const secondary = varyKey(primary, [entry.headers[1]!], ctx.req.rawHeaders);
    if (secondary === undefined) return this.cacheDecide(ctx, primary, undefined);
    const variant = this.deps.cache.lookup(secondary);
    return variant instanceof Promise ? variant.then((e) => this.cacheDecide(ctx, secondary, e)) : this.cacheDecide(ctx, secondary, variant);
  }

  private cacheDecide(ctx: RequestContext, key: string, entry: StoredResponse | undefined): Lookup {
    const cache = this.deps.cache;
    ctx.cacheKey = key;
    if (ctx.finished) return 'responded'; // the client left while the store answered
    if (entry !== undefined) {
      const now = this.deps.wallClock.now();
      const found = lookup(entry, cacheRequestOf(ctx), now);
      if (found.state === 'fresh') {
        cache.counters.hits++;
        cache.noteHit(entry);
        serveFromCache(ctx, entry, cacheStatus({ hit: true, ttlMs: found.ttlMs }), now);
        return 'responded';
      }
      if (found.state === 'stale-while-revalidate') {
        cache.counters.stale++;
        cache.noteHit(entry);
        serveFromCache(ctx, entry, cacheStatus({ hit: true, fwd: 'stale', ttlMs: found.ttlMs }), now);
        this.upstreamRequestFilter(ctx, ctx.pool!);
        refreshInBackground(ctx, entry, key, this.deps);
        return 'responded';
      }
      if (found.state === 'stale') {
        ctx.cached = entry;
        ctx.revalidationHeaders = found.revalidationHeaders;
      }
    }
    if (ctx.cached === undefined) cache.counters.misses++;
    const flight = cache.flights.find(key);
    if (flight === undefined) {
      ctx.flight = cache.flights.begin(key);
      return 'continue';
    }
    cache.counters.coalesced++;
    return flight.wait(cache.coalesceTimeoutMs).then((landed) => {
      if (ctx.finished) return 'responded';
      // Not storable, failed, too slow, or a variant this request's Vary-selecting fields do not select: fetch for ourselves.
      const shared = sharedFor(landed, ctx.primaryKey!, ctx.req.rawHeaders);
      if (shared === undefined) return 'continue';
      const at = this.deps.wallClock.now();
      cache.noteHit(shared);
      serveFromCache(ctx, shared, cacheStatus({ fwd: 'miss', collapsed: true, ttlMs: ttlOf(shared, at) }), at);
      return 'responded';
    });
  }

  /** 4. The balancer's pick among backends not yet tried, within the circuit breaker's limits. */
  private selectBackend(ctx: RequestContext, pool: Pool): Backend | FulcrumError {
    const picked = pool.select(ctx.tried === undefined ? ctx : { hashKey: ctx.hashKey, stickyValue: ctx.stickyValue, exclude: ctx.tried });
    if (picked === 'none') return new FulcrumError('FUL_ERR_NO_BACKEND');
    if (picked === 'circuit-open') return new FulcrumError('FUL_ERR_CIRCUIT_OPEN');
    return picked;
  }

  /** One try on one backend; a failure comes back through `attemptFailed`. */
  private attempt(ctx: RequestContext, pool: Pool): void {
    const backend = this.selectBackend(ctx, pool);
    if (backend instanceof FulcrumError) return this.failToProxy(ctx, ctx.error ?? backend);
    ctx.attempt++;
    ctx.backend = backend;
    const exchange = new Exchange(this, ctx, pool, backend, this.deps.clock.now());
    backend.inFlight++;
    if (backend.inFlight > backend.maxConnections) {
      pool.pending++;
      exchange.queued = true;
    }
    pool.balancer.onRequestStart?.(backend);
    if (ctx.attempt === 1 && pool.config.timeouts.request > 0) {
      ctx.deadline = setTimeout(onDeadline, pool.config.timeouts.request, ctx);
    }
    const head = ctx.head!;
    pool.clientOf(backend).dispatch(
      {
        method: ctx.req.method,
        path: head.target,
        // HTTP/1.0 clients may send no Host; the backend speaks HTTP/1.1 and needs one (RFC 9112 §3.2).
        headers: head.hostHeader === undefined ? [...ctx.upstreamHeaders!, 'host', backend.authority] : ctx.upstreamHeaders!,
        body: upstreamBodyOf(ctx.req),
        // A chunked body has no Content-Length for requestFilter to check: it is counted as it flows.
        maxBodyBytes: this.runtime.limits.max_body_size,
        headersTimeout: pool.config.timeouts.response,
        bodyTimeout: pool.config.timeouts.idle,
      },
      exchange,
    );
  }

  /** Called by an exchange when it ends, well or not: releases the backend and reports the outcome. */
  endExchange(ex: Exchange, outcome: 'success' | 'failure'): void {
    const { backend, pool } = ex;
    backend.inFlight--;
    if (ex.queued) pool.pending--;
    pool.balancer.onRequestEnd?.(backend, outcome, this.deps.clock.now() - ex.startedAt);
    if (pool.config.health.passive !== undefined) this.deps.reportOutcome(pool.name, backend, outcome);
  }

  /** 6/10. A try failed before or during the response. Retries when it is still safe; else fails the request. */
  attemptFailed(ex: Exchange, err: FulcrumError): void {
    const { ctx, pool, backend } = ex;
    const error = ctx.cancelled ?? err;
    this.endExchange(ex, error.source === 'backend' ? 'failure' : 'success');
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

  /** 7. The backend's response head, before it goes downstream: the header list to send. */
  upstreamResponseFilter(ctx: RequestContext, status: number, raw: readonly string[], contentLength: number): string[] {
    const balancer = ctx.pool!.balancer;
    if (balancer.onLoadReport !== undefined) {
      const load = reportedLoad(raw);
      if (load !== undefined) balancer.onLoadReport(ctx.backend!, load);
    }
    const headers = downstreamHeaders(raw, status, contentLength);
    headers.push('x-request-id', ctx.requestId);
    if (this.draining) ctx.res.closeAfter = true;
    const pool = ctx.pool!;
    if (pool.config.algorithm === 'sticky') {
      const token = stickyToken(ctx.backend!);
      if (token !== ctx.stickyValue) {
        const { cookie, ttl } = pool.config.sticky;
        const maxAge = ttl > 0 ? `; Max-Age=${Math.round(ttl / 1000)}` : '';
        headers.push('set-cookie', `${cookie}=${token}; Path=/; HttpOnly; SameSite=Lax${maxAge}`);
      }
    }
    if (ctx.cache !== undefined) this.cacheAdmit(ctx, status, raw, headers);
    ctx.status = status;
    ctx.responseStarted = true;
    return headers;
  }

  /**
   * 8. At a response head on a caching route: decides whether it will be stored (its body is then captured as it
   * streams down), releases requests waiting on this fetch when it will not, invalidates after an unsafe method
   * (RFC 9111 §4.4), and labels the response with Cache-Status.
   */
  private cacheAdmit(ctx: RequestContext, status: number, raw: readonly string[], headers: string[]): void {
    const cache = this.deps.cache;
    const method = ctx.req.method;
    if (method !== 'GET' && method !== 'HEAD') {
      for (const url of invalidatedUrls(cacheRequestOf(ctx), { status, headers: raw as string[] })) {
        const normal = purgeUrl(url);
        if (!(normal instanceof Refused)) void cache.purge('url', normal); // refused: no entry can be filed under it
      }
      return;
    }
    ctx.pendingStore = method === 'GET' ? admit(ctx, ctx.cache!, status, raw, this.deps.wallClock.now()) : undefined;
    if (ctx.pendingStore === undefined) this.endFlight(ctx, undefined);
    const fwd = ctx.cached !== undefined ? 'stale' : 'miss';
    headers.push('cache-status', cacheStatus({ fwd, fwdStatus: status, stored: ctx.pendingStore !== undefined }));
  }

  /** A revalidation answered 304: the stored response, its headers refreshed, answers the client. */
  revalidatedFromCache(ctx: RequestContext, headers: string[]): boolean {
    const cached = ctx.cached!;
    const now = this.deps.wallClock.now();
    const merged = revalidated(cached, cacheRequestOf(ctx), { status: 304, headers }, now);
    if (merged.modified) return false;
    const cache = this.deps.cache;
    cache.set(ctx.cacheKey!, merged.entry, merged.storeTtlMs);
    cache.counters.revalidated++;
    this.endFlight(ctx, { entry: merged.entry, key: ctx.cacheKey! });
    serveFromCache(ctx, merged.entry, cacheStatus({ hit: true, fwd: 'stale', fwdStatus: 304, ttlMs: ttlOf(merged.entry, now) }), now);
    return true;
  }

  /** The response body is complete: store it if admitted, and hand it to the requests that waited. */
  cacheComplete(ctx: RequestContext): void {
    const pending = ctx.pendingStore;
    ctx.pendingStore = undefined;
    const landed =
      pending !== undefined && !pending.capture.overflowed ? storeEntry(this.deps.cache, ctx, pending, this.deps.wallClock.now()) : undefined;
    this.endFlight(ctx, landed);
  }

  /**
   * The response is over downstream (from logging). Cut: the requests waiting on this fetch go their own way. Whole
   * with a store pending: its last bytes may have gone out with the end (a Content-Length body), before the exchange
   * reports the end, so the store completes now and the waiters get it rather than a release.
   */
  private cacheClosed(ctx: RequestContext, aborted: boolean): void {
    if (!aborted && ctx.pendingStore !== undefined) this.cacheComplete(ctx);
    else this.endFlight(ctx, undefined); // never leave waiters behind
  }

  private endFlight(ctx: RequestContext, landed: Landed | undefined): void {
    if (ctx.flight === undefined) return;
    this.deps.cache.flights.end(ctx.cacheKey!, ctx.flight, landed);
    ctx.flight = undefined;
  }

  /** 11. Turns an error into a response: status, a short body with the code and request id. */
  failToProxy(ctx: RequestContext, error: FulcrumError): void {
    this.endFlight(ctx, undefined);
    const stale = ctx.cached;
    if (stale !== undefined && error.source === 'backend' && !ctx.res.headersSent && canServeStaleOnError(stale, this.deps.wallClock.now())) {
      // RFC 5861 §4: the backend failed, and the stale response may stand in for it.
      ctx.error = error;
      this.deps.cache.counters.stale++;
      this.deps.cache.noteHit(stale);
      const now = this.deps.wallClock.now();
      serveFromCache(ctx, stale, cacheStatus({ hit: true, fwd: 'stale', detail: error.code }), now);
      return;
    }
    ctx.error = error;
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

  /** Set on SIGTERM: responses close their connections. */
  draining = false;

  /** 12. Exactly once per request, when its response closed: stats, access log. */
  logging(ctx: RequestContext, aborted: boolean): void {
    if (ctx.finished) return;
    ctx.finished = true;
    this.cacheClosed(ctx, aborted);
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
          host: ctx.head?.hostHeader,
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
  cancel(ctx, new FulcrumError('FUL_ERR_REQUEST_TIMEOUT'));
}

/** Ends a request from outside its exchange (a timeout): `error` is what it fails with, not the backend's doing. */
function cancel(ctx: RequestContext, error: FulcrumError): void {
  if (ctx.finished || ctx.res.writableEnded || ctx.cancelled !== undefined) return;
  ctx.cancelled = error;
  if (ctx.controller !== null) ctx.controller.abort(error);
  else ctx.pipeline.failToProxy(ctx, error);
}
