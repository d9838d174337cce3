/**
 * Everything the dashboard may use from the server, and its only way in (through its src/lib/server-api.ts): the
 * admin API's shapes, the live stream's events, and a few pure helpers so that the dashboard computes figures as
 * the server does. The values come from modules that import nothing at run time (stats.ts, figures.ts, events.ts,
 * whose imports are all types): the bundle takes in no zod and no node:*. The config's constants are exported as
 * types only (`typeof ALGORITHMS`): the dashboard keeps copies that a drift fails to type check.
 */

// The admin API's views (GET /api/pools, GET /api/limits).
export type { BackendView, LimitsView, PoolView, RouteLimitView } from './views.ts';
export type { BackendState } from '../upstream/backend.ts';

// The statistics, as GET /api/stats and the stream's `stats` events send them.
export type { CacheSnapshot, Counters, PoolCounters, StatsSnapshot } from '../observability/stats.ts';
export { histogramQuantile, LATENCY_BUCKETS_MS } from '../observability/stats.ts';
export { errorRate, latencyFigures } from './figures.ts';

// The live stream (GET /api/events/stream) and the control plane's events (GET /api/events).
export type { FulcrumEvent, StreamEvents } from './events.ts';
export { CONTROL_EVENT_TYPES } from './events.ts';

// The config's closed sets and bounds, as types of the server's values.
export type { ALGORITHMS, WEIGHT_MAX, WEIGHT_MIN } from '../config/schema.ts';
