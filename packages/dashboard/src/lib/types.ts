/**
 * The admin API's shapes, from the server's one entry for the dashboard (server-api.ts, that is
 * packages/server/src/admin/api-types.ts). The config's constants would bring zod into the bundle: the few the
 * dashboard needs are copies whose types are the server's literal values, so a copy that drifts fails the type check.
 */
import type { ALGORITHMS as SERVER_ALGORITHMS, StatsSnapshot, WEIGHT_MAX as SERVER_WEIGHT_MAX, WEIGHT_MIN as SERVER_WEIGHT_MIN } from './server-api.ts';

export type { BackendState, BackendView, CacheSnapshot, Counters, FulcrumEvent, LimitsView, PoolCounters, PoolView, RouteLimitView, StatsSnapshot, StreamEvents } from './server-api.ts';

/** The balancing algorithms. */
export const ALGORITHMS: typeof SERVER_ALGORITHMS = ['round-robin', 'weighted-round-robin', 'least-connections', 'random', 'p2c-ewma', 'consistent-hash', 'sticky', 'least-load'];
export type Algorithm = (typeof ALGORITHMS)[number];

/** Bounds of a backend's weight (the config schema's and POST .../weight's). */
export const WEIGHT_MIN: typeof SERVER_WEIGHT_MIN = 1;
export const WEIGHT_MAX: typeof SERVER_WEIGHT_MAX = 1000;

/** One `stats` message and when the dashboard received it (ms since the epoch). */
export interface Sample {
  t: number;
  stats: StatsSnapshot;
}
