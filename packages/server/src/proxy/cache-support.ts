/**
 * What the pipeline's cache phases (3 cacheLookup, 8 cacheAdmit) need beyond the policy: answering from a
 * stored response, capturing a body as it streams past, and refreshing an entry in the background.
 */
import type { RouteCacheConfig } from '../config/schema.ts';
import type { FulcrumError } from '../errors.ts';
import type { Landed } from '../cache/flight.ts';
import type { HttpCache } from '../cache/http-cache.ts';
import { entryFor, responseHeadersFor, revalidated, revalidationHeadersOf, storable, type StoreDecision } from '../cache/policy.ts';
import type { StoredResponse } from '../cache/store.ts';
import { urlOf, varyKey } from '../cache/key.ts';
import { NO_BODY, type ExchangeControl, type ExchangeHandler } from '../upstream/http1/types.ts';
import type { RequestContext } from './context.ts';
import type { PipelineDeps } from './pipeline.ts';
import { downstreamHeaders } from './forwarding.ts';

/** The request as the cache policy reads it. */
export interface CacheRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: readonly string[];
}

export function cacheRequestOf(ctx: RequestContext): CacheRequest {
  const head = ctx.head!;
  // The URL as purges and invalidations name it: the authority and target as forwarded, both in normal form.
  return { method: ctx.req.method, url: urlOf(head.hostHeader ?? '', head.target), headers: ctx.req.rawHeaders };
}

/** Marks a primary key's entry as a Vary index: the real entries live under the secondary keys. */
export const VARY_STUB_STATUS = 0;

export function varyStub(entry: StoredResponse, vary: string): StoredResponse {
  return { ...entry, status: VARY_STUB_STATUS, headers: ['vary', vary], body: Buffer.alloc(0) };
}

/** The response's Vary, its fields combined as one list (RFC 9110 §5.3); undefined without one. */
export function varyOf(headers: readonly string[]): string | undefined {
  let vary: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === 'vary') vary = vary === undefined ? headers[i + 1] : `${vary}, ${headers[i + 1]}`;
  }
  return vary;
}

/** Answers a request from a stored response: its headers with a current Age, Cache-Status, and the body. */
export function serveFromCache(ctx: RequestContext, entry: StoredResponse, cacheStatus: string, now: number): void {
  const headers = responseHeadersFor(entry, now);
  headers.push('cache-status', cacheStatus, 'x-request-id', ctx.requestId);
  ctx.status = entry.status;
  ctx.responseStarted = true;
  ctx.servedFromCache = true;
  ctx.res.writeHead(entry.status, headers);
  if (ctx.req.method === 'HEAD') ctx.res.end();
  else ctx.res.end(entry.body);
}

/** Collects a response body as it goes downstream, up to the route's max_object_size. */
export class BodyCapture {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly max: number;
  overflowed = false;

  constructor(max: number) {
    this.max = max;
  }

  add(chunk: Buffer): void {
    if (this.overflowed) return;
    this.size += chunk.length;
    if (this.size > this.max) {
      this.overflowed = true;
      this.chunks.length = 0;
      return;
    }
    this.chunks.push(chunk);
  }

  body(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
  }
}

/** What cacheAdmit decided to store, waiting for the body. */
export interface PendingStore {
  readonly capture: BodyCapture;
  readonly status: number;
  readonly decision: StoreDecision & { store: true };
}

/** Decides, at the response head, whether the response will be stored. */
export function admit(ctx: RequestContext, cfg: RouteCacheConfig, status: number, rawHeaders: readonly string[], now: number): PendingStore | undefined {
  const decision = storable(cacheRequestOf(ctx), { status, headers: rawHeaders as string[] }, cfg, now);
  if (!decision.store) return undefined;
  return { capture: new BodyCapture(cfg.max_object_size), status, decision };
}

/**
 * Stores a complete response under its key (and a Vary index under the primary key when it varies). Returns what
 * was stored and under which key, for the requests that waited on this fetch.
 */
export function storeEntry(cache: HttpCache, ctx: RequestContext, pending: PendingStore, now: number): Landed | undefined {
  const stored = entryFor(cacheRequestOf(ctx).url, pending.status, pending.decision, pending.capture.body(), now);
  // As it goes downstream: without hop-by-hop fields (the policy already left out Set-Cookie), with Via.
  const entry: StoredResponse = { ...stored, headers: downstreamHeaders(stored.headers, stored.status, stored.body.length) };
  const ttl = pending.decision.storeTtlMs;
  const vary = varyOf(entry.headers);
  const primary = ctx.primaryKey!;
  if (vary === undefined) {
    cache.set(primary, entry, ttl);
    return { entry, key: primary };
  }
  const key = varyKey(primary, [vary], ctx.req.rawHeaders);
  if (key === undefined) return undefined; // Vary: * — never stored
  cache.set(primary, varyStub(entry, vary), ttl);
  cache.set(key, entry, ttl);
  return { entry, key };
}

/**
 * Refreshes a stale entry without a client waiting (stale-while-revalidate): a conditional request to the pool,
 * whose 304 refreshes the stored headers and whose 200 replaces the entry.
 */
export class BackgroundRefresh implements ExchangeHandler {
  private capture: BodyCapture | undefined;
  private pending: PendingStore | undefined;
  private status = 0;
  private readonly done: (outcome: 'success' | 'failure') => void;
  private readonly ctx: RequestContext;
  private readonly cache: HttpCache;
  private readonly entry: StoredResponse;
  private readonly key: string;
  private readonly cfg: RouteCacheConfig;
  private readonly now: () => number;

  constructor(
    ctx: RequestContext,
    cache: HttpCache,
    entry: StoredResponse,
    key: string,
    cfg: RouteCacheConfig,
    now: () => number,
    done: (outcome: 'success' | 'failure') => void,
  ) {
    this.ctx = ctx;
    this.cache = cache;
    this.entry = entry;
    this.key = key;
    this.cfg = cfg;
    this.now = now;
    this.done = done;
  }

  onStart(_control: ExchangeControl): void {}

  onResponseStart(status: number, headers: string[]): void {
    this.status = status;
    if (status === 304) {
      const merged = revalidated(this.entry, cacheRequestOf(this.ctx), { status, headers }, this.now());
      if (!merged.modified) {
        this.cache.set(this.key, merged.entry, merged.storeTtlMs);
        this.cache.counters.revalidated++;
      }
      return;
    }
    this.pending = admit(this.ctx, this.cfg, status, headers, this.now());
    this.capture = this.pending?.capture;
  }

  onResponseData(chunk: Buffer): void {
    this.capture?.add(chunk);
  }

  onResponseEnd(): void {
    if (this.pending !== undefined && !this.pending.capture.overflowed) storeEntry(this.cache, this.ctx, this.pending, this.now());
    this.done(this.status >= 500 ? 'failure' : 'success');
  }

  onError(_error: FulcrumError): void {
    this.done('failure');
  }
}

/** Refreshes an entry with no client waiting, unless a fetch for its key is already under way. */
export function refreshInBackground(
  ctx: RequestContext,
  entry: StoredResponse,
  key: string,
  deps: Pick<PipelineDeps, 'cache' | 'wallClock' | 'reportOutcome'>,
): void {
  const cache = deps.cache;
  const pool = ctx.pool!;
  if (cache.flights.find(key) !== undefined) return;
  const picked = pool.select({});
  if (typeof picked === 'string') return;
  const flight = cache.flights.begin(key);
  picked.inFlight++;
  const headers = refreshHeaders(ctx.upstreamHeaders!, revalidationHeadersOf(entry, cacheRequestOf(ctx)));
  // HTTP/1.0 clients may send no Host; the backend speaks HTTP/1.1 and needs one (RFC 9112 §3.2).
  if (ctx.head!.hostHeader === undefined) headers.push('host', picked.authority);
  const refresh = new BackgroundRefresh(ctx, cache, entry, key, ctx.cache!, () => deps.wallClock.now(), (outcome) => {
    picked.inFlight--;
    cache.flights.end(key, flight, undefined);
    if (pool.config.health.passive !== undefined) deps.reportOutcome(pool.name, picked, outcome);
  });
  pool.clientOf(picked).dispatch(
    {
      method: 'GET',
      path: ctx.head!.target,
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
