/**
 * The pipeline's cache phases, for requests on routes that cache (RequestContext.cache set):
 *   3 lookup       a fresh entry answers; stale: served within stale-while-revalidate (then refreshed in the
 *                  background), else revalidated; a miss joins the fetch under way for its key, or leads one
 *   8 admit        at the response head: storability; the body is captured as it streams down
 *  11 serveStale   the backend failed and stale-if-error lets the stale entry answer
 * Every RFC 9111 decision is the policy's (cache/policy.ts); this module applies them to one request.
 */
import type { Landed } from '../cache/flight.ts';
import { sharedFor } from '../cache/flight.ts';
import { purgeUrl, type HttpCache } from '../cache/http-cache.ts';
import { cacheStatus } from '../cache/cache-status.ts';
import { primaryKey, urlOf, varyKey } from '../cache/key.ts';
import {
  canServeStaleOnError, entryFor, invalidatedUrls, lookup, responseHeadersFor, revalidated, revalidationHeadersOf,
  storable, ttlOf,
} from '../cache/policy.ts';
import type { StoredResponse } from '../cache/store.ts';
import type { RouteCacheConfig } from '../config/schema.ts';
import { FulcrumError } from '../errors.ts';
import type { Clock } from '../time.ts';
import { NO_BODY, type ExchangeControl, type ExchangeHandler } from '../upstream/http1/types.ts';
import type { Pool } from '../upstream/pool.ts';
import { Refused } from '../uri.ts';
import { startAttempt, type Attempt, type AttemptDeps } from './attempt.ts';
import { BodyCapture, CacheState, type PendingStore } from './cache-state.ts';
import type { RequestContext } from './context.ts';
import { downstreamHeaders } from './forwarding.ts';

/** What the lookup decided: answered; go to the backend; answered from a stale entry that wants a background refresh. */
export type LookupResult = 'responded' | 'continue' | 'refresh';

export interface CachePhasesDeps extends AttemptDeps {
  readonly cache: HttpCache;
  /** Wall-clock time (epoch ms), for the freshness arithmetic. */
  readonly wallClock: Clock;
}

/** Marks a primary key's entry as a Vary index: the real entries live under the secondary keys. */
export const VARY_STUB_STATUS = 0;

export class CachePhases {
  private readonly deps: CachePhasesDeps;

  constructor(deps: CachePhasesDeps) {
    this.deps = deps;
  }

  /** The cache's state for a request on a caching route. */
  stateFor(ctx: RequestContext, config: RouteCacheConfig): CacheState {
    // The URL as purges and invalidations name it: the authority and target as forwarded, both in normal form.
    return new CacheState(config, { method: ctx.req.method, url: urlOf(ctx.head.hostHeader ?? '', ctx.head.target), headers: ctx.req.rawHeaders });
  }

  /** 3. Synchronous when the store answers at once (memory), a promise otherwise. */
  lookup(ctx: RequestContext, state: CacheState): LookupResult | Promise<LookupResult> {
    const { head } = ctx;
    const q = head.target.indexOf('?');
    // Keyed on what is forwarded: the authority (a non-default port kept) and path, both in normal form.
    const primary = primaryKey(ctx.req.method, head.hostHeader ?? '', head.path, q < 0 ? '' : head.target.slice(q + 1), state.config, ctx.req.rawHeaders, ctx.req.secure);
    state.primaryKey = primary;
    const entry = this.deps.cache.lookup(primary);
    return entry instanceof Promise ? entry.then((e) => this.afterPrimary(ctx, state, e)) : this.afterPrimary(ctx, state, entry);
  }

  /** A Vary index under the primary key sends the lookup on to the request's variant. */
  private afterPrimary(ctx: RequestContext, state: CacheState, entry: StoredResponse | undefined): LookupResult | Promise<LookupResult> {
    if (entry === undefined || entry.status !== VARY_STUB_STATUS) return this.decide(ctx, state, state.primaryKey, entry);
    const secondary = varyKey(state.primaryKey, [entry.headers[1] ?? ''], ctx.req.rawHeaders);
    if (secondary === undefined) return this.decide(ctx, state, state.primaryKey, undefined);
    const variant = this.deps.cache.lookup(secondary);
    return variant instanceof Promise ? variant.then((e) => this.decide(ctx, state, secondary, e)) : this.decide(ctx, state, secondary, variant);
  }

  private decide(ctx: RequestContext, state: CacheState, key: string, entry: StoredResponse | undefined): LookupResult | Promise<LookupResult> {
    const cache = this.deps.cache;
    state.key = key;
    if (ctx.finished) return 'responded'; // the client left while the store answered
    if (entry !== undefined) {
      const now = this.deps.wallClock.now();
      const found = lookup(entry, state.request, now);
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
        state.stale = entry;
        return 'refresh';
      }
      if (found.state === 'stale') {
        state.stale = entry;
        state.revalidationHeaders = found.revalidationHeaders;
      }
    }
    if (state.stale === undefined) cache.counters.misses++;
    const flight = cache.flights.find(key);
    if (flight === undefined) {
      state.flight = cache.flights.begin(key);
      return 'continue';
    }
    cache.counters.coalesced++;
    return flight.wait(cache.coalesceTimeoutMs).then((landed) => {
      if (ctx.finished) return 'responded';
      // Not storable, failed, too slow, or a variant this request's Vary-selecting fields do not select: fetch for ourselves.
      const shared = sharedFor(landed, state.primaryKey, ctx.req.rawHeaders);
      if (shared === undefined) return 'continue';
      const at = this.deps.wallClock.now();
      cache.noteHit(shared);
      serveFromCache(ctx, shared, cacheStatus({ fwd: 'miss', collapsed: true, ttlMs: ttlOf(shared, at) }), at);
      return 'responded';
    });
  }

  /**
   * 8. At a response head: decides whether it will be stored (its body is then captured as it streams down),
   * releases requests waiting on this fetch when it will not, invalidates after an unsafe method (RFC 9111 §4.4),
   * and labels the response with Cache-Status.
   */
  admit(state: CacheState, status: number, raw: readonly string[], headers: string[]): void {
    const cache = this.deps.cache;
    const method = state.request.method;
    if (method !== 'GET' && method !== 'HEAD') {
      for (const url of invalidatedUrls(state.request, { status, headers: raw as string[] })) {
        const normal = purgeUrl(url);
        if (!(normal instanceof Refused)) void cache.purge('url', normal); // refused: no entry can be filed under it
      }
      return;
    }
    state.pendingStore = method === 'GET' ? pendingStoreOf(state, status, raw, this.deps.wallClock.now()) : undefined;
    if (state.pendingStore === undefined) this.release(state);
    const fwd = state.stale !== undefined ? 'stale' : 'miss';
    headers.push('cache-status', cacheStatus({ fwd, fwdStatus: status, stored: state.pendingStore !== undefined }));
  }

  /** A revalidation answered 304: the stored response, its headers refreshed, answers the client. False when it cannot. */
  revalidated(ctx: RequestContext, state: CacheState, headers: string[]): boolean {
    const stale = state.stale;
    if (stale === undefined) return false;
    const now = this.deps.wallClock.now();
    const merged = revalidated(stale, state.request, { status: 304, headers }, now);
    if (merged.modified) return false;
    const cache = this.deps.cache;
    cache.set(state.key, merged.entry, merged.storeTtlMs);
    cache.counters.revalidated++;
    this.release(state, { entry: merged.entry, key: state.key });
    serveFromCache(ctx, merged.entry, cacheStatus({ hit: true, fwd: 'stale', fwdStatus: 304, ttlMs: ttlOf(merged.entry, now) }), now);
    return true;
  }

  /** The response body is complete: store it if admitted, and hand it to the requests that waited. */
  complete(state: CacheState): void {
    const pending = state.pendingStore;
    state.pendingStore = undefined;
    const landed = pending !== undefined && !pending.capture.overflowed ? storeEntry(this.deps.cache, state, pending, this.deps.wallClock.now()) : undefined;
    this.release(state, landed);
  }

  /**
   * The response is over downstream. Cut: the requests waiting on this fetch go their own way. Whole with a store
   * pending: its last bytes may have gone out with the end (a Content-Length body), before the exchange reports the
   * end, so the store completes now and the waiters get it rather than a release.
   */
  closed(state: CacheState, aborted: boolean): void {
    if (!aborted && state.pendingStore !== undefined) this.complete(state);
    else this.release(state); // never leave waiters behind
  }

  /** Ends this request's lead of the fetch for its key: the waiters get `landed`, or fetch for themselves. */
  release(state: CacheState, landed?: Landed): void {
    if (state.flight === undefined) return;
    this.deps.cache.flights.end(state.key, state.flight, landed);
    state.flight = undefined;
  }

  /** 11. RFC 5861 §4: the backend failed, and the stale response may stand in for it. True when it answered. */
  serveStale(ctx: RequestContext, state: CacheState, error: FulcrumError): boolean {
    const stale = state.stale;
    const now = this.deps.wallClock.now();
    if (stale === undefined || error.source !== 'backend' || ctx.res.headersSent || !canServeStaleOnError(stale, now)) return false;
    this.deps.cache.counters.stale++;
    this.deps.cache.noteHit(stale);
    serveFromCache(ctx, stale, cacheStatus({ hit: true, fwd: 'stale', detail: error.code }), now);
    return true;
  }

  /**
   * Refreshes the stale entry a request was served (stale-while-revalidate) with no client waiting: a conditional
   * request whose 304 refreshes the stored headers and whose 200 replaces the entry. Skipped when a fetch for its
   * key is already under way. `forwarded`: the request's upstream fields (phase 5).
   */
  refresh(ctx: RequestContext, pool: Pool, state: CacheState, forwarded: readonly string[]): void {
    const cache = this.deps.cache;
    const entry = state.stale;
    if (entry === undefined || cache.flights.find(state.key) !== undefined) return;
    const attempt = startAttempt(pool, { key: ctx.key }, this.deps);
    if (attempt instanceof FulcrumError) return;
    const flight = cache.flights.begin(state.key);
    const headers = attempt.headersFor(ctx.head, refreshHeaders(forwarded, revalidationHeadersOf(entry, state.request)));
    const refresh = new BackgroundRefresh(this.deps, state, entry, attempt, () => cache.flights.end(state.key, flight, undefined));
    attempt.dispatch(
      {
        method: 'GET',
        path: ctx.head.target,
        headers,
        // Fulcrum's own request: no body and no framing field, whatever the client's request carried.
        body: NO_BODY,
        maxBodyBytes: 0,
        headersTimeout: pool.config.timeouts.response,
        bodyTimeout: pool.config.timeouts.idle,
      },
      refresh,
    );
  }
}

/** Answers a request from a stored response: its headers with a current Age, Cache-Status, and the body. */
function serveFromCache(ctx: RequestContext, entry: StoredResponse, status: string, now: number): void {
  const headers = responseHeadersFor(entry, now);
  headers.push('cache-status', status, 'x-request-id', ctx.requestId);
  ctx.status = entry.status;
  ctx.responseStarted = true;
  ctx.res.writeHead(entry.status, headers);
  if (ctx.req.method === 'HEAD') ctx.res.end();
  else ctx.res.end(entry.body);
}

/** Decides, at the response head, whether the response will be stored. */
function pendingStoreOf(state: CacheState, status: number, rawHeaders: readonly string[], now: number): PendingStore | undefined {
  const decision = storable(state.request, { status, headers: rawHeaders as string[] }, state.config, now);
  if (!decision.store) return undefined;
  return { capture: new BodyCapture(state.config.max_object_size), status, decision };
}

/**
 * Stores a complete response under its key (and a Vary index under the primary key when it varies). Returns what
 * was stored and under which key, for the requests that waited on this fetch.
 */
function storeEntry(cache: HttpCache, state: CacheState, pending: PendingStore, now: number): Landed | undefined {
  const stored = entryFor(state.request.url, pending.status, pending.decision, pending.capture.body(), now);
  // As it goes downstream: without hop-by-hop fields (the policy already left out Set-Cookie), with Via.
  const entry: StoredResponse = { ...stored, headers: downstreamHeaders(stored.headers, stored.status, stored.body.length) };
  const ttl = pending.decision.storeTtlMs;
  const vary = varyOf(entry.headers);
  if (vary === undefined) {
    cache.set(state.primaryKey, entry, ttl);
    return { entry, key: state.primaryKey };
  }
  const key = varyKey(state.primaryKey, [vary], state.request.headers);
  if (key === undefined) return undefined; // Vary: * — never stored
  cache.set(state.primaryKey, { ...entry, status: VARY_STUB_STATUS, headers: ['vary', vary], body: Buffer.alloc(0) }, ttl);
  cache.set(key, entry, ttl);
  return { entry, key };
}

/** The response's Vary, its fields combined as one list (RFC 9110 §5.3); undefined without one. */
function varyOf(headers: readonly string[]): string | undefined {
  let vary: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === 'vary') vary = vary === undefined ? headers[i + 1] : `${vary}, ${headers[i + 1]}`;
  }
  return vary;
}

/** The handler of a background refresh: a 304 refreshes the stored headers, a storable answer replaces the entry. */
class BackgroundRefresh implements ExchangeHandler {
  private readonly deps: CachePhasesDeps;
  private readonly state: CacheState;
  private readonly entry: StoredResponse;
  private readonly attempt: Attempt;
  private readonly done: () => void;
  private pending: PendingStore | undefined;
  private status = 0;

  constructor(deps: CachePhasesDeps, state: CacheState, entry: StoredResponse, attempt: Attempt, done: () => void) {
    this.deps = deps;
    this.state = state;
    this.entry = entry;
    this.attempt = attempt;
    this.done = done;
  }

  onStart(_control: ExchangeControl): void {}

  onResponseStart(status: number, headers: string[]): void {
    this.status = status;
    const now = this.deps.wallClock.now();
    if (status === 304) {
      const merged = revalidated(this.entry, this.state.request, { status, headers }, now);
      if (!merged.modified) {
        this.deps.cache.set(this.state.key, merged.entry, merged.storeTtlMs);
        this.deps.cache.counters.revalidated++;
      }
      return;
    }
    this.pending = pendingStoreOf(this.state, status, headers, now);
  }

  onResponseData(chunk: Buffer): void {
    this.pending?.capture.add(chunk);
  }

  onResponseEnd(): void {
    if (this.pending !== undefined && !this.pending.capture.overflowed) storeEntry(this.deps.cache, this.state, this.pending, this.deps.wallClock.now());
    this.finish(this.status >= 500 ? 'failure' : 'success');
  }

  onError(_error: FulcrumError): void {
    this.finish('failure');
  }

  private finish(outcome: 'success' | 'failure'): void {
    this.attempt.end(outcome);
    this.done();
  }
}

/**
 * Fields the client's own exchange owns, which a refresh (a request of Fulcrum's, with no body) must not carry:
 * body framing (the upstream connection frames it as bodyless, and the forwarded list never holds framing fields:
 * this keeps it so should that change); and the client's conditionals and ranges, which the refresh's own replace.
 */
const CLIENT_EXCHANGE_ONLY = new Set([
  'content-length', 'transfer-encoding',
  'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range',
]);

/** The head of a background refresh: the forwarded fields (Vary and the key read them) less the client's exchange. */
export function refreshHeaders(forwarded: readonly string[], revalidation: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < forwarded.length; i += 2) {
    if (!CLIENT_EXCHANGE_ONLY.has(forwarded[i]!.toLowerCase())) out.push(forwarded[i]!, forwarded[i + 1]!);
  }
  for (const field of revalidation) out.push(field);
  return out;
}
