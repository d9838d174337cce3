/**
 * The cache store contract: a plain async key-value store of whole responses with a time to live. Every
 * RFC 9111 decision lives outside the stores (cache/policy.ts and the pipeline's cache phases); stores only keep
 * bytes. Stores fail open: a store that is down, slow or full makes `get` answer undefined and `set` do nothing
 * (after counting the error), never fail a request.
 */

/** One stored response: what the cache needs to answer from it and to revalidate it. */
export interface StoredResponse {
  /** The request URL it answers (scheme-less: host + path + query), for purges by URL and prefix. */
  readonly url: string;
  readonly status: number;
  /** Flat [name, value, …] as sent downstream (hop-by-hop fields already removed). */
  readonly headers: string[];
  readonly body: Buffer;
  /** Epoch milliseconds when it was stored (or last revalidated). */
  readonly storedAt: number;
  /** Surrogate keys (from Surrogate-Key / Cache-Tag), for purges by tag. */
  readonly tags: readonly string[];
  /** http-cache-semantics' CachePolicy.toObject(): the freshness and revalidation state. */
  readonly policy: Record<string, unknown>;
}

export type StoreName = 'memory' | 'redis' | 'memcached';

export interface StoreStats {
  /** Bytes held, where the store can tell (memory: exact; others: an estimate or undefined). */
  readonly bytes: number | undefined;
  readonly entries: number | undefined;
  /** Entries dropped to make room (memory) since start. */
  readonly evictions: number;
  /** Operations that failed (connection down, timeout, too large) since start. */
  readonly errors: number;
}

export interface CacheStore {
  readonly name: StoreName;
  /** The entry, or undefined when absent, expired, or the store failed. */
  get(key: string): Promise<StoredResponse | undefined>;
  /** `get` without a promise, for a store that can answer at once (memory): no microtask on the hot path of a hit. */
  lookup?(key: string): StoredResponse | undefined;
  /** Stores for `ttlMs` (the store may drop it earlier). Resolves even when the store failed. */
  set(key: string, value: StoredResponse, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  stats(): StoreStats;
  close(): Promise<void>;
}
