/** Builders of admin API payloads for component tests. */
import type { BackendView, Counters, PoolView, Sample, StatsSnapshot } from './lib/types.ts';

export function counters(requests: number, fivexx = 0, latency: number[] = []): Counters {
  const hist = new Array<number>(14).fill(0);
  latency.forEach((n, i) => (hist[i] = n));
  return { requests, responses: [0, requests - fivexx, 0, 0, fivexx], errors: {}, retries: 0, inFlight: 0, latency: hist, latencySumMs: 0 };
}

export function snapshot(byBackend: Record<string, Counters>, cache?: Partial<NonNullable<StatsSnapshot['cache']>>, connections = 3): StatsSnapshot {
  const pool = Object.values(byBackend).reduce<Counters>((sum, c) => {
    sum.requests += c.requests;
    c.responses.forEach((n, i) => (sum.responses[i]! += n));
    c.latency.forEach((n, i) => (sum.latency[i]! += n));
    return sum;
  }, counters(0));
  const full: NonNullable<StatsSnapshot['cache']> = {
    hits: 0, misses: 0, stale: 0, revalidated: 0, coalesced: 0, stored: 0, bytes: 0, entries: 0, evictions: 0, storeErrors: 0,
    ...cache,
    topUrls: cache?.topUrls ?? [],
    topTags: cache?.topTags ?? [],
  };
  return { pools: { web: { ...pool, backends: byBackend } }, cache: full, connections };
}

export const sample = (t: number, stats: StatsSnapshot): Sample => ({ t, stats });

export function backend(id: string, state: BackendView['state'] = 'healthy'): BackendView {
  return {
    id,
    weight: 1,
    state,
    warmth: 1,
    inFlight: 0,
    requests: 10,
    responses: { '1xx': 0, '2xx': 10, '3xx': 0, '4xx': 0, '5xx': 0 },
    errors: {},
    errorRate: 0,
    retries: 0,
    latencyMs: { p50: 1, p95: 2, p99: 3 },
    health: null,
    registered: false,
  };
}

export function pool(name: string, backends: BackendView[]): PoolView {
  return { name, algorithm: 'round-robin', requests: 20, errorRate: 0, latencyMs: { p50: 1, p95: 2, p99: 3 }, backends };
}
