/**
 * Traffic counters kept by the proxy on its hot path: plain numbers, no labels hashed per request.
 * Workers send snapshots to the primary, which sums them; the admin API and /metrics read the sum.
 */
import { sumLimits, type LimitsSnapshot } from './limit-stats.ts';

/** Upper bounds of the latency histogram, in milliseconds (the last bucket is +Inf). */
export const LATENCY_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

export interface Counters {
  requests: number;
  /** Responses by class: index 0 = 1xx … 4 = 5xx. */
  responses: number[];
  /** Requests that ended with a Fulcrum error, by error code. */
  errors: Record<string, number>;
  retries: number;
  /** Requests in flight when the snapshot was taken (tunnels included); filled by the proxy process. */
  inFlight: number;
  /** Count per bucket of LATENCY_BUCKETS_MS (not cumulative), +Inf last. */
  latency: number[];
  latencySumMs: number;
}

export interface PoolCounters extends Counters {
  backends: Record<string, Counters>;
}

/** What the response cache counts as it answers. */
export interface CacheCounters {
  /** Served from the cache, fresh. */
  hits: number;
  /** Looked up and not found (or unusable, or banned). */
  misses: number;
  /** Served stale: while revalidating, or because the backend failed. */
  stale: number;
  /** Stale entries refreshed by a 304. */
  revalidated: number;
  /** Requests that waited for another's miss instead of going to the backend. */
  coalesced: number;
  /** Responses stored. */
  stored: number;
}

/** A name (a cached URL, a tag) and how many cache hits it had. */
export interface TopEntry {
  name: string;
  count: number;
}

/** How many names a snapshot carries in each top list. */
export const TOP_LIST_LENGTH = 10;

/** The cache's counters and its store's figures, summed over processes like the rest; top lists merged. */
export interface CacheSnapshot extends CacheCounters {
  bytes: number;
  entries: number;
  evictions: number;
  storeErrors: number;
  /** The URLs with the most hits (fresh, stale or collapsed), largest first; approximate (cache/top.ts). */
  topUrls: TopEntry[];
  /** The tags with the most hits, counted once per hit on an entry carrying them. */
  topTags: TopEntry[];
}

/** The summed figures of CacheSnapshot: everything but the top lists. */
type CacheFigure = Exclude<keyof CacheSnapshot, 'topUrls' | 'topTags'>;

export const EMPTY_CACHE: Readonly<CacheSnapshot> = {
  hits: 0,
  misses: 0,
  stale: 0,
  revalidated: 0,
  coalesced: 0,
  stored: 0,
  bytes: 0,
  entries: 0,
  evictions: 0,
  storeErrors: 0,
  topUrls: [],
  topTags: [],
};

const CACHE_FIGURES = Object.keys(EMPTY_CACHE).filter((k) => k !== 'topUrls' && k !== 'topTags') as CacheFigure[];

function byCount(a: TopEntry, b: TopEntry): number {
  return b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * Several processes' top lists as one: counts summed by name, the `n` largest kept, largest first (ties by name).
 * Here rather than in cache/top.ts because sumSnapshots needs it and observability imports nothing from cache.
 */
export function mergeTop(lists: Iterable<readonly TopEntry[]>, n: number): TopEntry[] {
  const sums = new Map<string, number>();
  for (const list of lists) for (const { name, count } of list) sums.set(name, (sums.get(name) ?? 0) + count);
  return Array.from(sums, ([name, count]) => ({ name, count }))
    .sort(byCount)
    .slice(0, Math.max(0, n));
}

export interface StatsSnapshot {
  pools: Record<string, PoolCounters>;
  cache?: CacheSnapshot;
  /** Rate and connection limits (limit-stats.ts). */
  limits?: LimitsSnapshot;
  /** Open client connections. */
  connections: number;
}

function newCounters(): Counters {
  return {
    requests: 0,
    responses: [0, 0, 0, 0, 0],
    errors: {},
    retries: 0,
    inFlight: 0,
    latency: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0),
    latencySumMs: 0,
  };
}

/** The record's own entry for `key`, made when missing. Pool names are user text: "constructor" must not hit the prototype. */
function own<T>(record: Record<string, T>, key: string, make: () => T): T {
  return Object.hasOwn(record, key) ? record[key]! : (record[key] = make());
}

const newPoolCounters = (): PoolCounters => ({ ...newCounters(), backends: {} });

function bucketOf(ms: number): number {
  let i = 0;
  while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
  return i;
}

function count(c: Counters, status: number, bucket: number, ms: number, errorCode: string | undefined): void {
  c.requests++;
  if (status >= 100 && status < 600) c.responses[Math.floor(status / 100) - 1]!++;
  if (errorCode !== undefined) c.errors[errorCode] = (Object.hasOwn(c.errors, errorCode) ? c.errors[errorCode]! : 0) + 1;
  c.latency[bucket]!++;
  c.latencySumMs += ms;
}

export class TrafficStats {
  private readonly pools: Record<string, PoolCounters> = {};
  connections = 0;

  private poolCounters(pool: string): PoolCounters {
    return own(this.pools, pool, newPoolCounters);
  }

  /** One finished request: `backendId` is the backend of the last attempt, if any was made. */
  record(pool: string, backendId: string | undefined, status: number, ms: number, errorCode: string | undefined): void {
    const p = this.poolCounters(pool);
    const bucket = bucketOf(ms);
    count(p, status, bucket, ms, errorCode);
    if (backendId !== undefined) count(own(p.backends, backendId, newCounters), status, bucket, ms, errorCode);
  }

  retry(pool: string, backendId: string): void {
    const p = this.poolCounters(pool);
    p.retries++;
    own(p.backends, backendId, newCounters).retries++;
  }

  /** A copy of the counters, with the in-flight figure of each backend read from `inFlightOf`. */
  snapshot(inFlightOf: (pool: string, backendId: string) => number | undefined): StatsSnapshot {
    const pools = structuredClone(this.pools);
    for (const [name, p] of Object.entries(pools)) {
      p.inFlight = 0;
      for (const [id, b] of Object.entries(p.backends)) {
        b.inFlight = inFlightOf(name, id) ?? 0;
        p.inFlight += b.inFlight;
      }
    }
    return { pools, connections: this.connections };
  }

  /** Makes sure a backend has counters (so that it shows, at zero, before its first request). */
  ensure(pool: string, backendId: string): void {
    own(this.poolCounters(pool).backends, backendId, newCounters);
  }
}

function addCounters(into: Counters, from: Counters): void {
  into.requests += from.requests;
  into.retries += from.retries;
  into.inFlight += from.inFlight;
  into.latencySumMs += from.latencySumMs;
  for (let i = 0; i < into.responses.length; i++) into.responses[i]! += from.responses[i] ?? 0;
  for (let i = 0; i < into.latency.length; i++) into.latency[i]! += from.latency[i] ?? 0;
  for (const [code, n] of Object.entries(from.errors)) into.errors[code] = (Object.hasOwn(into.errors, code) ? into.errors[code]! : 0) + n;
}

/** The sum of several workers' snapshots. */
export function sumSnapshots(snapshots: Iterable<StatsSnapshot>): StatsSnapshot {
  const cache: CacheSnapshot = { ...EMPTY_CACHE };
  const total: StatsSnapshot = { pools: {}, connections: 0, cache };
  const urls: TopEntry[][] = [];
  const tags: TopEntry[][] = [];
  const limits: Array<LimitsSnapshot | undefined> = [];
  for (const s of snapshots) {
    limits.push(s.limits);
    total.connections += s.connections;
    if (s.cache !== undefined) {
      for (const k of CACHE_FIGURES) cache[k] += s.cache[k];
      urls.push(s.cache.topUrls);
      tags.push(s.cache.topTags);
    }
    for (const [name, pool] of Object.entries(s.pools)) {
      const into = own(total.pools, name, newPoolCounters);
      addCounters(into, pool);
      for (const [id, b] of Object.entries(pool.backends)) addCounters(own(into.backends, id, newCounters), b);
    }
  }
  // Each worker sends its own top 10: a name just below the cut in every worker can be missed (approximate).
  cache.topUrls = mergeTop(urls, TOP_LIST_LENGTH);
  cache.topTags = mergeTop(tags, TOP_LIST_LENGTH);
  total.limits = sumLimits(limits);
  return total;
}

/** A latency quantile estimated from the histogram (linear within a bucket), in ms; 0 without data. */
export function latencyQuantile(c: Counters, q: number): number {
  return histogramQuantile(c.latency, q) ?? 0;
}

/**
 * A quantile of a (non-cumulative) LATENCY_BUCKETS_MS histogram, linear within a bucket, in ms; null without
 * data. Also the dashboard's (this module imports only limit-stats.ts, which imports nothing, so it bundles alone).
 */
export function histogramQuantile(hist: readonly number[], q: number): number | null {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    const n = hist[i]!;
    if (seen + n >= rank && n > 0) {
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1]!;
      const upper = LATENCY_BUCKETS_MS[i] ?? lower * 2;
      return lower + ((rank - seen) / n) * (upper - lower);
    }
    seen += n;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]!;
}
