/**
 * The admin API's shapes, as packages/server/src/admin/views.ts and observability/stats.ts send them. Type-only
 * imports: the schema module would bring zod into the bundle, so the few constants the dashboard needs from it
 * are copies whose types are the server's literal values, and a copy that drifts fails the type check.
 */
import type { ALGORITHMS as SERVER_ALGORITHMS, WEIGHT_MAX as SERVER_WEIGHT_MAX, WEIGHT_MIN as SERVER_WEIGHT_MIN } from '../../../server/src/config/schema.ts';

// The statistics as the server defines them.
import type { CacheSnapshot, Counters, PoolCounters, StatsSnapshot } from '../../../server/src/observability/stats.ts';
export type { CacheSnapshot, Counters, PoolCounters, StatsSnapshot };

// The pools and backends as the admin API's views define them.
import type { BackendView, LimitsView, PoolView, RouteLimitView } from '../../../server/src/admin/views.ts';
export type { BackendView, LimitsView, PoolView, RouteLimitView };
export type BackendState = BackendView['state'];

/** The balancing algorithms. */
export const ALGORITHMS: typeof SERVER_ALGORITHMS = ['round-robin', 'weighted-round-robin', 'least-connections', 'random', 'p2c-ewma', 'consistent-hash', 'sticky', 'least-load'];
export type Algorithm = (typeof ALGORITHMS)[number];

/** Bounds of a backend's weight (the config schema's and POST .../weight's). */
export const WEIGHT_MIN: typeof SERVER_WEIGHT_MIN = 1;
export const WEIGHT_MAX: typeof SERVER_WEIGHT_MAX = 1000;

/** A control plane event (backend-state, config-reloaded, config-rejected, cache-purge, runtime-change). */
export interface FulcrumEvent {
  at: string;
  type: string;
  [key: string]: unknown;
}

export const EVENT_TYPES = ['backend-state', 'config-reloaded', 'config-rejected', 'cache-purge', 'runtime-change'] as const;

/** One `stats` message and when the dashboard received it (ms since the epoch). */
export interface Sample {
  t: number;
  stats: StatsSnapshot;
}
