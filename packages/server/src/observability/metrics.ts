/**
 * Prometheus metrics on the admin listener (prom-client). The proxy counts in plain numbers on its hot path
 * (stats.ts); here, at scrape time, the aggregated snapshot and the health state become metrics.
 * Names: fulcrum_<subsystem>_<name>_<unit>; labels come from closed sets or the config (pool, backend), never a URL.
 */
import client from 'prom-client';
import { BACKEND_STATES, type BackendState } from '../upstream/backend.ts';
import { EMPTY_CACHE, LATENCY_BUCKETS_MS, type StatsSnapshot } from './stats.ts';
import { EMPTY_LIMITS } from './limit-stats.ts';

export interface MetricsSource {
  stats(): StatsSnapshot;
  /** pool → backend id → state */
  backendStates(): Record<string, Record<string, BackendState>>;
  /** pool → backend id → times ejected since start */
  ejections(): Record<string, Record<string, number>>;
  reloads(): { ok: number; failed: number };
}

const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** A histogram whose buckets are already counted (prom-client's own Histogram only counts observations). */
class SnapshotHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly read: () => Array<{ labels: Record<string, string>; buckets: number[]; sumSeconds: number }>;

  constructor(name: string, help: string, read: SnapshotHistogram['read']) {
    this.name = name;
    this.help = help;
    this.read = read;
  }

  get(): Pick<client.MetricObjectWithValues<client.MetricValueWithName<string>>, 'name' | 'help' | 'type' | 'values' | 'aggregator'> {
    const values: client.MetricValueWithName<string>[] = [];
    for (const { labels, buckets, sumSeconds } of this.read()) {
      let cumulative = 0;
      buckets.forEach((n, i) => {
        cumulative += n;
        const le = i < LATENCY_BUCKETS_MS.length ? String(LATENCY_BUCKETS_MS[i]! / 1000) : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_sum`, labels, value: sumSeconds });
      values.push({ metricName: `${this.name}_count`, labels, value: cumulative });
    }
    return { name: this.name, help: this.help, type: 'histogram' as unknown as client.MetricType, values, aggregator: 'sum' };
  }
}

export function createMetricsRegistry(source: MetricsSource): client.Registry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'fulcrum_process_' });

  new client.Counter({
    name: 'fulcrum_http_requests_total',
    help: 'Requests finished, by pool, backend and response class.',
    labelNames: ['pool', 'backend', 'code_class'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [pool, p] of Object.entries(source.stats().pools)) {
        for (const [backend, b] of Object.entries(p.backends)) {
          b.responses.forEach((n, i) => n > 0 && this.inc({ pool, backend, code_class: CLASSES[i]! }, n));
        }
        // Requests that never reached a backend (no route, no backend available, rejected).
        const direct = p.responses.map((n, i) => n - Object.values(p.backends).reduce((a, b) => a + b.responses[i]!, 0));
        direct.forEach((n, i) => n > 0 && this.inc({ pool, backend: 'none', code_class: CLASSES[i]! }, n));
      }
    },
  });
  new client.Counter({
    name: 'fulcrum_proxy_errors_total',
    help: 'Requests that ended with a Fulcrum error, by pool and error code.',
    labelNames: ['pool', 'code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [pool, p] of Object.entries(source.stats().pools)) {
        for (const [code, n] of Object.entries(p.errors)) this.inc({ pool, code }, n);
      }
    },
  });
  new client.Counter({
    name: 'fulcrum_upstream_retries_total',
    help: 'Retries on another backend, by pool and the backend that failed.',
    labelNames: ['pool', 'backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [pool, p] of Object.entries(source.stats().pools)) {
        for (const [backend, b] of Object.entries(p.backends)) if (b.retries > 0) this.inc({ pool, backend }, b.retries);
      }
    },
  });
  new client.Gauge({
    name: 'fulcrum_backend_in_flight_requests',
    help: 'Requests in flight per backend (tunnels included).',
    labelNames: ['pool', 'backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [pool, p] of Object.entries(source.stats().pools)) {
        for (const [backend, b] of Object.entries(p.backends)) this.set({ pool, backend }, b.inFlight);
      }
    },
  });
  new client.Gauge({
    name: 'fulcrum_backend_state',
    help: 'Backend state: 1 for the current state, 0 for the others.',
    labelNames: ['pool', 'backend', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [pool, backends] of Object.entries(source.backendStates())) {
        for (const [backend, current] of Object.entries(backends)) {
          for (const state of BACKEND_STATES) this.set({ pool, backend, state }, state === current ? 1 : 0);
        }
      }
    },
  });
  new client.Gauge({
    name: 'fulcrum_backend_up',
    help: '1 when the backend takes traffic (healthy or slow-start), else 0.',
    labelNames: ['pool', 'backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [pool, backends] of Object.entries(source.backendStates())) {
        for (const [backend, s] of Object.entries(backends)) this.set({ pool, backend }, s === 'healthy' || s === 'slow-start' ? 1 : 0);
      }
    },
  });
  new client.Counter({
    name: 'fulcrum_backend_ejections_total',
    help: 'Passive outlier ejections per backend.',
    labelNames: ['pool', 'backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [pool, backends] of Object.entries(source.ejections())) {
        for (const [backend, n] of Object.entries(backends)) this.inc({ pool, backend }, n);
      }
    },
  });
  new client.Gauge({
    name: 'fulcrum_http_connections_active',
    help: 'Open client connections.',
    registers: [registry],
    collect() {
      this.set(source.stats().connections);
    },
  });
  new client.Counter({
    name: 'fulcrum_config_reloads_total',
    help: 'Configuration reloads, by result.',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      const { ok, failed } = source.reloads();
      this.inc({ result: 'ok' }, ok);
      this.inc({ result: 'failed' }, failed);
    },
  });
  const limitsOf = () => source.stats().limits ?? EMPTY_LIMITS;
  new client.Counter({
    name: 'fulcrum_rate_limit_requests_total',
    help: 'Requests checked against a route\'s rate limit, by route (its policy name) and result: allowed, or limited (429).',
    labelNames: ['route', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [route, p] of Object.entries(limitsOf().policies)) {
        this.inc({ route, result: 'allowed' }, p.allowed);
        this.inc({ route, result: 'limited' }, p.limited);
      }
    },
  });
  new client.Counter({
    name: 'fulcrum_rate_limit_fallbacks_total',
    help: 'Rate limit decisions taken by the instance\'s own counters because the shared store (Redis) failed or was slow.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(limitsOf().fallbacks);
    },
  });
  new client.Counter({
    name: 'fulcrum_http_connections_refused_total',
    help: 'Client connections closed at accept, by the limit they were over: max_connections or max_connections_per_ip.',
    labelNames: ['limit'],
    registers: [registry],
    collect() {
      this.reset();
      const { total, perIp } = limitsOf().connectionsRefused;
      this.inc({ limit: 'max_connections' }, total);
      this.inc({ limit: 'max_connections_per_ip' }, perIp);
    },
  });
  const cacheOf = () => source.stats().cache ?? EMPTY_CACHE;
  new client.Counter({
    name: 'fulcrum_cache_requests_total',
    help: 'Lookups in the response cache by result: hit (fresh), stale (served stale), revalidated (304), coalesced (waited for another miss), miss.',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      const c = cacheOf();
      for (const result of ['hits', 'stale', 'revalidated', 'coalesced', 'misses'] as const) {
        this.inc({ result: result === 'hits' ? 'hit' : result === 'misses' ? 'miss' : result }, c[result]);
      }
    },
  });
  for (const [name, help, field, kind] of [
    ['fulcrum_cache_stored_total', 'Responses stored in the cache.', 'stored', 'counter'],
    ['fulcrum_cache_store_errors_total', 'Cache store operations that failed or timed out (the request went on).', 'storeErrors', 'counter'],
    ['fulcrum_cache_evictions_total', 'Entries the memory store dropped to make room.', 'evictions', 'counter'],
    ['fulcrum_cache_bytes', 'Bytes held by the cache store, where it can tell.', 'bytes', 'gauge'],
    ['fulcrum_cache_entries', 'Entries held by the cache store, where it can tell.', 'entries', 'gauge'],
  ] as const) {
    const Metric = kind === 'counter' ? client.Counter : client.Gauge;
    new Metric({
      name,
      help,
      registers: [registry],
      collect(this: client.Counter | client.Gauge) {
        this.reset();
        const v = cacheOf()[field];
        if (this instanceof client.Gauge) this.set(v);
        else this.inc(v);
      },
    });
  }
  registry.registerMetric(
    new SnapshotHistogram('fulcrum_http_request_duration_seconds', 'Request duration from first byte in to last byte out, by pool.', () =>
      Object.entries(source.stats().pools).map(([pool, p]) => ({
        labels: { pool },
        buckets: p.latency,
        sumSeconds: p.latencySumMs / 1000,
      })),
    ) as unknown as client.Metric,
  );
  return registry;
}
