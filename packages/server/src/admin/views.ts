/** The admin API's JSON views, built from the control plane's state: pure functions, no I/O. */
import { redactSecrets } from '../config/redact.ts';
import { rateLimitName, type Config } from '../config/schema.ts';
import { EMPTY_LIMITS } from '../observability/limit-stats.ts';
import type { HealthSnapshot } from '../health/state.ts';
import type { Counters, StatsSnapshot } from '../observability/stats.ts';
import type { Backend } from '../upstream/backend.ts';
import { errorRate, latencyFigures, type LatencyFigures } from './figures.ts';

export interface BackendView {
  id: string;
  weight: number;
  state: Backend['state'];
  warmth: number;
  inFlight: number;
  requests: number;
  responses: Record<'1xx' | '2xx' | '3xx' | '4xx' | '5xx', number>;
  errors: Record<string, number>;
  errorRate: number;
  retries: number;
  latencyMs: LatencyFigures;
  health: HealthSnapshot[string][string] | null;
  /** Added by self-registration: it stays while it heartbeats, across reloads from disk too. */
  registered: boolean;
}

export interface PoolView {
  name: string;
  algorithm: string;
  requests: number;
  errorRate: number;
  latencyMs: LatencyFigures;
  backends: BackendView[];
}

const ZERO: Counters = {
  requests: 0,
  responses: [0, 0, 0, 0, 0],
  errors: {},
  retries: 0,
  inFlight: 0,
  latency: [],
  latencySumMs: 0,
};

export function poolView(
  name: string,
  config: Config,
  backends: readonly Backend[],
  stats: StatsSnapshot,
  health: HealthSnapshot,
  isRegistered: (pool: string, backend: string) => boolean,
): PoolView {
  const p = stats.pools[name];
  return {
    name,
    algorithm: config.pools[name]!.algorithm,
    requests: p?.requests ?? 0,
    errorRate: p ? errorRate(p) : 0,
    latencyMs: latencyFigures(p ?? ZERO),
    backends: backends.map((b) => {
      const c = p?.backends[b.id] ?? ZERO;
      const [r1, r2, r3, r4, r5] = c.responses as [number, number, number, number, number];
      return {
        id: b.id,
        weight: b.weight,
        state: b.state,
        warmth: Math.round(b.warmth * 1000) / 1000,
        inFlight: c.inFlight,
        requests: c.requests,
        responses: { '1xx': r1, '2xx': r2, '3xx': r3, '4xx': r4, '5xx': r5 },
        errors: c.errors,
        errorRate: errorRate(c),
        retries: c.retries,
        latencyMs: latencyFigures(c),
        health: health[name]?.[b.id] ?? null,
        registered: isRegistered(name, b.id),
      };
    }),
  };
}

/** The running config with every secret replaced (config/redact.ts says which). */
export function redactedConfig(config: Config): unknown {
  return redactSecrets(config);
}

/** One route's rate limit and what it did: GET /api/limits. */
export interface RouteLimitView {
  /** The policy's name, as in RateLimit headers and metrics. */
  name: string;
  /** The route's position in `routes`, from 0. */
  route: number;
  pool: string;
  match: unknown;
  rate: { count: number; periodSeconds: number };
  burst: number;
  key: string;
  headers: boolean;
  allowed: number;
  limited: number;
  /** 429s in the last minute. */
  limitedLastMinute: number;
}

export interface LimitsView {
  /** Where counters live: memory (the instance's) or redis (shared by the instances using it). */
  store: 'memory' | 'redis';
  /** Decisions the instance's own counters took because Redis failed or was slow. */
  fallbacks: number;
  routes: RouteLimitView[];
  connections: { max: number; maxPerIp: number; open: number; refused: { maxConnections: number; maxConnectionsPerIp: number } };
}

export function limitsView(config: Config, stats: StatsSnapshot, store: 'memory' | 'redis'): LimitsView {
  const limits = stats.limits ?? EMPTY_LIMITS;
  const routes: RouteLimitView[] = [];
  config.routes.forEach((route, i) => {
    const rl = route.rate_limit;
    if (rl === undefined) return;
    const name = rateLimitName(route, i);
    const counts = Object.hasOwn(limits.policies, name) ? limits.policies[name]! : { allowed: 0, limited: 0, limitedRecent: 0 };
    routes.push({
      name,
      route: i,
      pool: route.pool,
      // Header values a route matches on may be credentials: shown as the config view shows them.
      match: redactSecrets(route.match),
      rate: { count: rl.rate.count, periodSeconds: rl.rate.periodMs / 1000 },
      burst: rl.burst ?? rl.rate.count,
      key: rl.key,
      headers: rl.headers,
      allowed: counts.allowed,
      limited: counts.limited,
      limitedLastMinute: counts.limitedRecent,
    });
  });
  const { total, perIp } = limits.connectionsRefused;
  return {
    store,
    fallbacks: limits.fallbacks,
    routes,
    connections: {
      max: config.limits.max_connections,
      maxPerIp: config.limits.max_connections_per_ip,
      open: stats.connections,
      refused: { maxConnections: total, maxConnectionsPerIp: perIp },
    },
  };
}
