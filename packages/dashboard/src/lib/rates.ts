/**
 * Counters → rates: the stats stream sends totals since start; the dashboard shows what happened between two
 * successive snapshots. Pure functions. A counter that went down (a restart) counts from zero.
 */
import { histogramQuantile as quantile, LATENCY_BUCKETS_MS } from './server-api.ts';
import type { Counters, Sample, StatsSnapshot } from './types.ts';

const diff = (a: number, b: number) => (b >= a ? b - a : b);

export interface Totals {
  requests: number;
  errors5xx: number;
  latency: number[];
}

/** Requests, 5xx and the latency histogram summed over pools. */
export function totals(s: StatsSnapshot): Totals {
  const t: Totals = { requests: 0, errors5xx: 0, latency: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0) };
  for (const p of Object.values(s.pools)) addTo(t, p);
  return t;
}

function addTo(t: Totals, c: Counters): void {
  t.requests += c.requests;
  t.errors5xx += c.responses[4] ?? 0;
  c.latency.forEach((n, i) => (t.latency[i] = (t.latency[i] ?? 0) + n));
}

export interface Rates {
  t: number;
  rps: number;
  /** 5xx / requests in the interval, 0..1; null without requests. */
  errorRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Cache hits (fresh or stale) / lookups in the interval, 0..1; null without lookups. */
  hitRatio: number | null;
  hits: number;
  misses: number;
  stale: number;
  connections: number;
  inFlight: number;
}

export function rates(prev: Sample, cur: Sample): Rates {
  const seconds = Math.max((cur.t - prev.t) / 1000, 0.001);
  const a = totals(prev.stats);
  const b = totals(cur.stats);
  const requests = diff(a.requests, b.requests);
  const errors = diff(a.errors5xx, b.errors5xx);
  const hist = b.latency.map((n, i) => diff(a.latency[i] ?? 0, n));
  const ca = prev.stats.cache;
  const cb = cur.stats.cache;
  const hits = cb ? diff(ca?.hits ?? 0, cb.hits) : 0;
  const misses = cb ? diff(ca?.misses ?? 0, cb.misses) : 0;
  const stale = cb ? diff(ca?.stale ?? 0, cb.stale) : 0;
  const lookups = hits + misses + stale;
  return {
    t: cur.t,
    rps: requests / seconds,
    errorRate: requests === 0 ? null : errors / requests,
    p50: quantile(hist, 0.5),
    p95: quantile(hist, 0.95),
    p99: quantile(hist, 0.99),
    hitRatio: lookups === 0 ? null : (hits + stale) / lookups,
    hits: hits / seconds,
    misses: misses / seconds,
    stale: stale / seconds,
    connections: cur.stats.connections,
    inFlight: Object.values(cur.stats.pools).reduce((n, p) => n + p.inFlight, 0),
  };
}

/** The rates between each pair of successive samples. */
export function rateSeries(samples: readonly Sample[]): Rates[] {
  const out: Rates[] = [];
  for (let i = 1; i < samples.length; i++) out.push(rates(samples[i - 1]!, samples[i]!));
  return out;
}

/** Requests per backend between two samples, by pool then backend id. */
export function backendDeltas(prev: Sample, cur: Sample): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [pool, p] of Object.entries(cur.stats.pools)) {
    const before = prev.stats.pools[pool]?.backends ?? {};
    out[pool] = {};
    for (const [id, b] of Object.entries(p.backends)) out[pool]![id] = diff(before[id]?.requests ?? 0, b.requests);
  }
  return out;
}

/** Each backend's share (0..1) of its pool's requests over the last `window` samples; empty pools are absent. */
export function backendShares(samples: readonly Sample[], window = 5): Record<string, Record<string, number>> {
  if (samples.length < 2) return {};
  const first = samples[Math.max(0, samples.length - 1 - window)]!;
  const deltas = backendDeltas(first, samples[samples.length - 1]!);
  const out: Record<string, Record<string, number>> = {};
  for (const [pool, byId] of Object.entries(deltas)) {
    const sum = Object.values(byId).reduce((a, b) => a + b, 0);
    if (sum === 0) continue;
    out[pool] = Object.fromEntries(Object.entries(byId).map(([id, n]) => [id, n / sum]));
  }
  return out;
}
