/**
 * The cache of one Fulcrum process, as the pipeline sees it: a store (with an optional in-memory first tier),
 * coalescing of concurrent misses, and purges. Purges are bans (as Varnish's): a purge by URL, prefix or tag is
 * remembered for as long as entries may live, and an entry stored before a ban that matches it is a miss. This
 * works alike for every store — memcached cannot list its keys — and reaches every instance through the purge bus.
 * The bans are indexed (bans.ts), so that a purge-heavy site does not slow its hits.
 */
import type { Clock } from '../time.ts';
import { normaliseAuthority, normalisePath, Refused } from '../uri.ts';
import { BanIndex } from './bans.ts';
import { Flights } from './flight.ts';
import type { Purge, PurgeBus } from './purge-bus.ts';
import type { CacheStore, StoredResponse } from './store.ts';
import { TopCounter } from './top.ts';
import type { CacheCounters } from '../observability/stats.ts';

/** Bans older than this can match nothing: no entry lives longer (stores cap TTLs at a day). */
export const BAN_RETENTION_MS = 24 * 3600 * 1000;
export const MAX_TTL_MS = BAN_RETENTION_MS;

export class HttpCache {
  readonly counters: CacheCounters = { hits: 0, misses: 0, stale: 0, revalidated: 0, coalesced: 0, stored: 0 };
  /** The URLs and tags with the most hits, in bounded memory (Space-Saving). */
  readonly topUrls = new TopCounter();
  readonly topTags = new TopCounter();
  readonly flights = new Flights();
  readonly coalesceTimeoutMs: number;
  private readonly store: CacheStore;
  private readonly l1: CacheStore | undefined;
  private readonly bus: PurgeBus;
  private readonly wallClock: Clock;
  private readonly bans = new BanIndex(BAN_RETENTION_MS);
  private readonly unsubscribe: () => void;

  constructor(store: CacheStore, l1: CacheStore | undefined, bus: PurgeBus, options: { coalesceTimeoutMs: number; wallClock: Clock }) {
    this.store = store;
    this.l1 = l1;
    this.bus = bus;
    this.coalesceTimeoutMs = options.coalesceTimeoutMs;
    this.wallClock = options.wallClock;
    this.unsubscribe = bus.subscribe((p) => this.ban(p));
  }

  /**
   * The entry for `key`, answered at once when the store can (the memory store: no promise, no microtask on the
   * hot path of a hit), else as a promise.
   */
  lookup(key: string): StoredResponse | undefined | Promise<StoredResponse | undefined> {
    if (this.l1 !== undefined || this.store.lookup === undefined) return this.get(key);
    const entry = this.store.lookup(key);
    if (entry !== undefined && this.banned(entry)) {
      void this.delete(key);
      return undefined;
    }
    return entry;
  }

  /** The entry for `key`, from the first tier or the store; undefined when absent or banned. */
  async get(key: string): Promise<StoredResponse | undefined> {
    let entry = this.l1 === undefined ? undefined : await this.l1.get(key);
    if (entry === undefined) {
      entry = await this.store.get(key);
      if (entry !== undefined && this.l1 !== undefined && !this.banned(entry)) {
        // Kept briefly in the first tier: bans reach it, and the store stays the source of truth.
        void this.l1.set(key, entry, 5000);
      }
    }
    if (entry !== undefined && this.banned(entry)) {
      void this.delete(key);
      return undefined;
    }
    return entry;
  }

  /** A response served from `entry` (fresh, stale or collapsed): counts its URL and each of its tags. */
  noteHit(entry: StoredResponse): void {
    this.topUrls.add(entry.url);
    for (let i = 0; i < entry.tags.length; i++) this.topTags.add(entry.tags[i]!);
  }

  set(key: string, entry: StoredResponse, ttlMs: number): void {
    const ttl = Math.min(ttlMs, MAX_TTL_MS);
    this.counters.stored++;
    void this.store.set(key, entry, ttl);
    if (this.l1 !== undefined) void this.l1.set(key, entry, Math.min(ttl, 5000));
  }

  async delete(key: string): Promise<void> {
    await Promise.all([this.store.delete(key), this.l1?.delete(key)]);
  }

  /**
   * Purges everywhere: the bus applies it here first, then carries it to the other instances. 'local-only' when
   * the shared bus could not take it (Redis or memcached down): this instance is purged, the others are not.
   */
  async purge(kind: Purge['kind'], value: string): Promise<'everywhere' | 'local-only'> {
    const purge: Purge = { kind, value, at: this.wallClock.now() };
    try {
      await this.bus.publish(purge);
      return 'everywhere';
    } catch {
      this.ban(purge); // in case the bus failed before delivering it here
      return 'local-only';
    }
  }

  /** Applies a purge (ours, or another instance's from the bus). */
  ban(purge: Purge): void {
    this.bans.add(purge, this.wallClock.now());
  }

  /** Distinct URLs, prefixes and tags banned now. */
  get banCount(): number {
    return this.bans.size;
  }

  get storeStats() {
    return this.store.stats();
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await Promise.all([this.store.close(), this.l1?.close(), this.bus.close()]);
  }

  private banned(entry: StoredResponse): boolean {
    return this.bans.bans(entry);
  }
}

/**
 * How purges name URLs: as entries record them (urlOf), without the scheme, the authority and path in the normal
 * form requests are keyed and forwarded in (src/uri.ts): `http://Example.com:80/a/./b?c` purges
 * `example.com/a/b?c`. Refused when no request could be filed under it.
 */
export function purgeUrl(url: string): string | Refused {
  const scheme = /^https?:\/\//i.exec(url)?.[0];
  const rest = scheme === undefined ? url : url.slice(scheme.length);
  const slash = rest.indexOf('/');
  const authority = normaliseAuthority(slash < 0 ? rest : rest.slice(0, slash), scheme?.length === 8 ? 443 : 80);
  if (authority instanceof Refused) return authority;
  if (slash < 0) return `${authority}/`;
  const q = rest.indexOf('?', slash);
  const path = normalisePath(q < 0 ? rest.slice(slash) : rest.slice(slash, q));
  if (path instanceof Refused) return path;
  return q < 0 ? `${authority}${path}` : `${authority}${path}${rest.slice(q)}`;
}
