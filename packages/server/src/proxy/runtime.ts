/**
 * What the pipeline consults for each request, built from one config: the router, the pools with their backends
 * and balancers, limits. A reload builds a new runtime while in-flight requests finish on the old one; backends
 * that did not change are carried over (same objects: health state, counters, connections kept).
 */
import type { DownstreamRequest } from '../downstream/request.ts';
import { BlockList, isIPv6 } from 'node:net';
import { createBalancer } from '../balancing/registry.ts';
import type { Config, RouteCacheConfig } from '../config/schema.ts';
import type { Clock, Random } from '../time.ts';
import { Backend } from '../upstream/backend.ts';
import { UpstreamConnections } from '../upstream/connections.ts';
import { Pool } from '../upstream/pool.ts';
import { RetryBudget } from '../upstream/retry-budget.ts';
import type { ScannedHead } from './forwarding.ts';
import { Router } from './router.ts';

/** Where a request goes: a pool, and the route's cache settings when it caches. */
export interface RouteTarget {
  readonly pool: Pool;
  readonly cache: RouteCacheConfig | undefined;
}

export class ProxyRuntime {
  readonly config: Config;
  readonly pools: ReadonlyMap<string, Pool>;
  readonly limits: Config['limits'];
  readonly accessLog: boolean;
  private readonly router: Router<RouteTarget>;
  /** Undefined when no proxy is trusted: the common case costs no lookup. */
  private readonly trusted: BlockList | undefined;
  /** With no routes, every request goes to the default pool: no matching to do. */
  private readonly routeless: RouteTarget | undefined;

  constructor(config: Config, pools: Map<string, Pool>) {
    this.config = config;
    this.pools = pools;
    this.limits = config.limits;
    this.accessLog = config.log.access;
    const names = [...pools.keys()];
    const fallbackName = config.default_pool ?? (names.length === 1 ? names[0] : undefined);
    const fallbackPool = fallbackName === undefined ? undefined : pools.get(fallbackName);
    const fallback = fallbackPool === undefined ? undefined : { pool: fallbackPool, cache: undefined };
    this.router = new Router(
      config.routes,
      (r) => ({ pool: pools.get(r.pool)!, cache: r.cache?.enabled ? r.cache : undefined }),
      fallback,
    );
    this.routeless = config.routes.length === 0 ? fallback : undefined;
    this.trusted = config.trusted_proxies.length > 0 ? trustedList(config.trusted_proxies) : undefined;
  }

  route(req: DownstreamRequest, head: ScannedHead): RouteTarget | undefined {
    if (this.routeless !== undefined) return this.routeless;
    return this.router.route(head.host, head.path, req);
  }

  isTrusted(ip: string): boolean {
    return this.trusted !== undefined && this.trusted.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4');
  }

  findBackend(poolName: string, id: string): Backend | undefined {
    return this.pools.get(poolName)?.findBackend(id);
  }
}

function trustedList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const type = isIPv6(address!) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address!, type);
    else list.addSubnet(address!, Number(prefix), type);
  }
  return list;
}

export interface RuntimeDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly connections: UpstreamConnections;
}

/**
 * Builds the runtime of `config`, reusing from `previous` every backend whose pool and origin are unchanged
 * (weight and limits updated in place), and closing connections to backends that left.
 */
export function buildRuntime(config: Config, previous: ProxyRuntime | undefined, deps: RuntimeDeps): ProxyRuntime {
  const pools = new Map<string, Pool>();
  const keep = new Set<string>();
  for (const [name, poolConfig] of Object.entries(config.pools)) {
    const members = poolConfig.backends.map((b) => {
      const maxConnections = b.max_connections ?? poolConfig.circuit_breaker.max_connections;
      let backend = previous?.findBackend(name, new URL(b.url).origin);
      if (backend === undefined) backend = new Backend({ url: b.url, weight: b.weight, maxConnections });
      backend.weight = b.weight;
      backend.maxConnections = maxConnections;
      keep.add(UpstreamConnections.key(name, backend));
      return { backend, client: deps.connections.clientFor(name, backend, poolConfig) };
    });
    const balancer = createBalancer(poolConfig, { clock: deps.clock, random: deps.random });
    const budget = new RetryBudget(poolConfig.retries.budget, poolConfig.retries.min_per_second, deps.clock);
    pools.set(name, new Pool(name, poolConfig, members, balancer, budget));
  }
  deps.connections.retainOnly(keep);
  return new ProxyRuntime(config, pools);
}
