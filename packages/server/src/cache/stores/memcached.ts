/**
 * One or more memcached servers. Fulcrum spreads keys over them itself, by consistent hashing (hash-ring.ts), so
 * a server added or removed moves only about 1/N of the keys; each server has its own connection
 * (memcached-connection.ts). Entries are encoded with codec.ts under legal memcached keys (memcached-keys.ts).
 * Fails open like every store: a server down or slow costs misses and counted errors, never a failed request.
 */
import { decodeStoredResponse, encodeStoredResponse } from '../codec.ts';
import type { CacheStore, StoreStats, StoredResponse } from '../store.ts';
import { HashRing } from './hash-ring.ts';
import { DEFAULT_MEMCACHED_TIMEOUT_MS, MemcachedConnection, MemcachedStatusError, MemcachedTimeoutError, STATUS_TOO_LARGE } from './memcached-connection.ts';
import { DEFAULT_KEY_PREFIX, isValidKeyPrefix, memcachedKey, memcachedTtlSeconds } from './memcached-keys.ts';

/** memcached's default item size limit (`-I 1m`). */
export const DEFAULT_MAX_ITEM_BYTES = 1024 * 1024;
/**
 * memcached counts its item header (about 50 bytes with CAS) and the key against the item size limit; this
 * leaves room for them, so that a value we send is not refused.
 */
export const ITEM_OVERHEAD_BYTES = 64;

export interface MemcachedStoreOptions {
  /** host:port of each server (config: cache.memcached.servers); the same list, in any order, on every instance. */
  readonly servers: readonly string[];
  /** Before every key (config: cache.memcached.key_prefix). Printable ASCII, no space. */
  readonly keyPrefix?: string;
  /** Per operation; slower counts as an error and a miss (config: cache.memcached.timeout). */
  readonly timeoutMs?: number;
  /** The servers' item size limit (config: cache.memcached.max_item_size): larger entries are not sent. */
  readonly maxItemBytes?: number;
}

export interface MemcachedStoreStats extends StoreStats {
  /** Entries not stored because they were larger than maxItemBytes (not errors). */
  readonly skipped: number;
  /** Of the errors, those that were timeouts. */
  readonly timeouts: number;
}

export class MemcachedStore implements CacheStore {
  readonly name = 'memcached' as const;
  private readonly prefix: string;
  private readonly maxItemBytes: number;
  private readonly connections: readonly MemcachedConnection[];
  private readonly ring: HashRing;
  private errors = 0;
  private timeouts = 0;
  private skipped = 0;
  private readonly failed = (err: unknown): undefined => {
    this.errors++;
    if (err instanceof MemcachedTimeoutError) this.timeouts++;
    return undefined;
  };

  constructor(options: MemcachedStoreOptions) {
    if (options.servers.length === 0) throw new RangeError('MemcachedStore needs at least one server');
    this.prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    if (!isValidKeyPrefix(this.prefix)) throw new RangeError(`not a usable memcached key prefix: ${JSON.stringify(this.prefix)}`);
    this.maxItemBytes = options.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES;
    const timeoutMs = options.timeoutMs ?? DEFAULT_MEMCACHED_TIMEOUT_MS;
    this.connections = options.servers.map((server) => new MemcachedConnection(server, timeoutMs));
    this.ring = new HashRing(options.servers);
  }

  /** The server (host:port) that holds a cache key. */
  serverFor(key: string): string {
    return this.connectionFor(memcachedKey(this.prefix, key)).server;
  }

  get(key: string): Promise<StoredResponse | undefined> {
    const mkey = memcachedKey(this.prefix, key);
    return this.connectionFor(mkey)
      .get(mkey)
      .then((item) => (item === undefined ? undefined : decodeStoredResponse(item.value)), this.failed);
  }

  /** Entries larger than maxItemBytes are skipped, and the old entry deleted: it has been superseded. */
  set(key: string, value: StoredResponse, ttlMs: number): Promise<void> {
    const ttl = memcachedTtlSeconds(ttlMs);
    if (ttl === 0) return this.delete(key);
    const mkey = memcachedKey(this.prefix, key);
    // Cheap check before encoding: the body alone may be too large.
    if (value.body.length + mkey.length + ITEM_OVERHEAD_BYTES > this.maxItemBytes) return this.skip(key);
    const encoded = encodeStoredResponse(value);
    if (encoded.length + mkey.length + ITEM_OVERHEAD_BYTES > this.maxItemBytes) return this.skip(key);
    return this.connectionFor(mkey)
      .set(mkey, encoded, ttl)
      .then(undefined, (err: unknown) => {
        // A server configured with a smaller limit than maxItemBytes says so: still a skip, not a failure.
        if (err instanceof MemcachedStatusError && err.status === STATUS_TOO_LARGE) return this.skip(key);
        this.failed(err);
      });
  }

  delete(key: string): Promise<void> {
    const mkey = memcachedKey(this.prefix, key);
    return this.connectionFor(mkey).delete(mkey).then(undefined, this.failed);
  }

  stats(): MemcachedStoreStats {
    return { bytes: undefined, entries: undefined, evictions: 0, errors: this.errors, timeouts: this.timeouts, skipped: this.skipped };
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.close();
  }

  private skip(key: string): Promise<void> {
    this.skipped++;
    return this.delete(key);
  }

  private connectionFor(mkey: string): MemcachedConnection {
    return this.connections[this.ring.pick(mkey)]!;
  }
}
