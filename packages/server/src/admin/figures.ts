/**
 * The figures the admin API shows for a set of counters, rounded as its views send them. Pure, and importing
 * nothing at run time but stats.ts: the dashboard computes the same figures from the live stream's snapshots.
 */
import { latencyQuantile, type Counters } from '../observability/stats.ts';

export interface LatencyFigures {
  p50: number;
  p95: number;
  p99: number;
}

/** Latency quantiles in ms, to 0.01 ms. */
export function latencyFigures(c: Counters): LatencyFigures {
  const r = (q: number) => Math.round(latencyQuantile(c, q) * 100) / 100;
  return { p50: r(0.5), p95: r(0.95), p99: r(0.99) };
}

/** Share of requests answered 5xx (those produced by Fulcrum included), 0..1 to 4 places; 0 without requests. */
export function errorRate(c: Counters): number {
  return c.requests === 0 ? 0 : Math.round((c.responses[4]! / c.requests) * 10_000) / 10_000;
}
