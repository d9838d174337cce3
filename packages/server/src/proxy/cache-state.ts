/** What the cache phases (cache-phases.ts) keep of one request on a caching route: RequestContext.cache. */
import type { RouteCacheConfig } from '../config/schema.ts';
import type { Flight } from '../cache/flight.ts';
import type { CacheRequestHead, StoreDecision } from '../cache/policy.ts';
import type { StoredResponse } from '../cache/store.ts';

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

export class CacheState {
  readonly config: RouteCacheConfig;
  /** The request as the policy reads it; its URL is the one purges and invalidations name. */
  readonly request: CacheRequestHead;
  /** Set by the lookup (GET and HEAD only). */
  primaryKey = '';
  /** The key the response is looked up and stored under: the primary key, or its Vary secondary key. */
  key = '';
  /**
   * The stale entry the lookup found: revalidated with the backend (and served if that fails and stale-if-error
   * allows), or, within stale-while-revalidate, served at once and refreshed in the background.
   */
  stale: StoredResponse | undefined = undefined;
  /** The conditional fields that revalidate `stale`. */
  revalidationHeaders: string[] | undefined = undefined;
  /** Set when this request leads the fetch that concurrent misses for its key wait on. */
  flight: Flight | undefined = undefined;
  /** The response being stored as it streams past. */
  pendingStore: PendingStore | undefined = undefined;

  constructor(config: RouteCacheConfig, request: CacheRequestHead) {
    this.config = config;
    this.request = request;
  }
}
