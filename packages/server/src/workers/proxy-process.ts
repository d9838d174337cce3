/**
 * The data plane of one process: listener, pipeline, tunnels and connection pools, driven by the control plane
 * (config, backend states) and reporting back (outcomes, stats). Runs inside each worker, or alone with workers: 1.
 */
import type { Config } from '../config/schema.ts';
import type { Logger } from '../observability/logger.ts';
import { TOP_LIST_LENGTH, TrafficStats, type StatsSnapshot } from '../observability/stats.ts';
import type { AcceptGate, DownstreamServer } from '../downstream/server.ts';
import { createProxyServer, drainServer, type ProxyServerDeps } from '../proxy/server.ts';
import { ChallengeAnswers, type ChallengeSet } from '../acme/answers.ts';
import { listenersOf, type ListenerConfig } from '../config/listeners.ts';
import { ListenerCertificates } from '../tls/listener-certificates.ts';
import type { TlsMaterial } from '../tls/material.ts';
import { Pipeline, type PipelineDeps } from '../proxy/pipeline.ts';
import { buildRuntime } from '../proxy/runtime.ts';
import { UpgradeProxy } from '../proxy/upgrade.ts';
import { monotonicClock, systemRandom, wallClock } from '../time.ts';
import { createCache } from '../cache/create.ts';
import type { HttpCache } from '../cache/http-cache.ts';
import type { Purge } from '../cache/purge-bus.ts';
import type { BackendState } from '../upstream/backend.ts';
import { UpstreamConnections } from '../upstream/connections.ts';
import type { ConnectionGate } from '../limits/connections.ts';
import { createLimiterStore } from '../limits/create.ts';
import type { LimiterStore } from '../limits/store.ts';
import { LimitStats } from '../observability/limit-stats.ts';
import { splitHostPort } from '../config/listen.ts';

/**
 * The instance's own limits, as the process mode provides them: this process's memory (workers: 1), or the
 * cluster primary's, asked over IPC (limits/ipc.ts). `gate` is undefined when no connection limit is set.
 */
export interface InstanceLimits {
  readonly store: LimiterStore;
  readonly gate: ConnectionGate | undefined;
}

/** A backend's state as decided by the control plane. */
export interface BackendStateUpdate {
  readonly pool: string;
  readonly id: string;
  readonly state: BackendState;
  readonly warmth: number;
}

export class ProxyProcess {
  readonly stats = new TrafficStats();
  readonly limitStats = new LimitStats(monotonicClock);
  private readonly limiterStore: LimiterStore;
  readonly cache: HttpCache;
  private readonly pipeline: Pipeline;
  private readonly upgrades: UpgradeProxy;
  private readonly connections = new UpstreamConnections();
  /** One per listener, in config order; listeners are fixed at start. */
  private readonly servers: DownstreamServer[] = [];
  private readonly listeners: readonly ListenerConfig[];
  private readonly certificates: ListenerCertificates[] = [];
  private readonly challenges = new ChallengeAnswers();
  private ports: number[] = [];
  private readonly serverDeps: ProxyServerDeps;

  private readonly log: Logger;

  constructor(config: Config, log: Logger, reportOutcome: PipelineDeps['reportOutcome'], limits: InstanceLimits) {
    this.log = log;
    // Read at start, like the cache store: a reload does not move the counters.
    this.limiterStore = createLimiterStore(config, limits.store, this.limitStats);
    this.watchLimiter(log);
    const runtime = buildRuntime(config, undefined, this.runtimeDeps());
    // The cache store is read at start, like the listener: a reload does not move it.
    this.cache = createCache(config.cache, wallClock);
    this.watchStore(log, config.cache.store);
    const deps: PipelineDeps = { clock: monotonicClock, wallClock, cache: this.cache, log, stats: this.stats, reportOutcome };
    this.pipeline = new Pipeline(runtime, deps);
    this.upgrades = new UpgradeProxy(this.pipeline, deps);
    this.serverDeps = { pipeline: this.pipeline, upgrades: this.upgrades, stats: this.stats, log };
    const gate = limits.gate === undefined ? undefined : this.acceptGate(limits.gate);
    this.listeners = listenersOf(config);
    this.listeners.forEach((listener, i) => {
      const certificates = listener.tls && new ListenerCertificates(i, listener.tls, this.challenges);
      if (certificates) this.certificates.push(certificates);
      const tls = certificates && { source: certificates };
      const edge = { challenges: this.challenges, redirectPort: () => this.redirectPort(listener) };
      this.servers.push(createProxyServer(config.limits, config.http2, this.serverDeps, { tls, edge, gate }));
    });
    this.countBackends();
  }

  /** Listens on every listener's host:port (port 0 picks a free one). Returns the bound ports, in config order. */
  async listen(): Promise<number[]> {
    this.ports = [];
    for (const [i, listener] of this.listeners.entries()) {
      const { host, port } = splitHostPort(listener.listen);
      this.ports.push(await this.servers[i]!.listen(host, port));
    }
    return this.ports;
  }

  /** New certificates (files re-read, ACME renewed): each TLS listener swaps its set; open connections stay. */
  applyTls(material: TlsMaterial): void {
    for (const c of this.certificates) c.apply(material);
  }

  applyChallenges(set: ChallengeSet): void {
    this.challenges.apply(set);
  }

  /** Where a redirecting listener sends clients: its own port, or the first TLS listener's (bound) port. */
  private redirectPort(listener: ListenerConfig): number | undefined {
    if (listener.redirect_https === false) return undefined;
    if (listener.redirect_https !== true) return listener.redirect_https;
    const i = this.listeners.findIndex((l) => l.tls !== undefined);
    return i < 0 ? 443 : (this.ports[i] ?? 443);
  }

  /** Swaps in a new config; requests in flight finish on the old runtime. */
  applyConfig(config: Config, states: readonly BackendStateUpdate[]): void {
    const runtime = buildRuntime(config, this.pipeline.runtime, this.runtimeDeps());
    this.pipeline.runtime = runtime;
    this.applyBackendStates(states);
    this.countBackends();
  }

  private runtimeDeps() {
    return { clock: monotonicClock, random: systemRandom, connections: this.connections, limits: { store: this.limiterStore, stats: this.limitStats } };
  }

  private acceptGate(gate: ConnectionGate): AcceptGate {
    return {
      gate,
      onRefused: (why) => {
        if (why === 'over-total') this.limitStats.refusedTotal++;
        else this.limitStats.refusedPerIp++;
      },
    };
  }

  applyBackendStates(updates: readonly BackendStateUpdate[]): void {
    const touched = new Set<string>();
    for (const u of updates) {
      const backend = this.pipeline.runtime.findBackend(u.pool, u.id);
      if (backend === undefined) continue;
      backend.state = u.state;
      backend.warmth = u.warmth;
      touched.add(u.pool);
    }
    for (const name of touched) this.pipeline.runtime.pools.get(name)?.refresh();
  }

  snapshot(): StatsSnapshot {
    const runtime = this.pipeline.runtime;
    const snapshot = this.stats.snapshot((pool, id) => runtime.findBackend(pool, id)?.inFlight);
    const store = this.cache.storeStats;
    snapshot.cache = {
      ...this.cache.counters,
      bytes: store.bytes ?? 0,
      entries: store.entries ?? 0,
      evictions: store.evictions,
      storeErrors: store.errors,
      topUrls: this.cache.topUrls.top(TOP_LIST_LENGTH),
      topTags: this.cache.topTags.top(TOP_LIST_LENGTH),
    };
    snapshot.limits = this.limitStats.snapshot();
    return snapshot;
  }

  /** Logs store failures once per interval (not once per request): the requests themselves went on uncached. */
  private watchStore(log: Logger, store: string): void {
    let seen = 0;
    setInterval(() => {
      const errors = this.cache.storeStats.errors;
      if (errors > seen) log.warn({ store, errors: errors - seen }, 'cache store failing: requests go to the backends');
      seen = errors;
    }, 5000).unref();
  }

  /**
   * Logs rate limit decisions taken locally because Redis failed, once per interval, and the return to shared
   * counting: while it lasts, each instance enforces the whole limit on its own.
   */
  private watchLimiter(log: Logger): void {
    let seen = 0;
    let failing = false;
    setInterval(() => {
      const fallbacks = this.limitStats.fallbacks;
      if (fallbacks > seen) log.warn({ decisions: fallbacks - seen }, 'rate limit store unreachable: limiting with this instance\'s own counters');
      else if (failing) log.info('rate limit store reachable again: limits are shared');
      failing = fallbacks > seen;
      seen = fallbacks;
    }, 5000).unref();
  }

  /** Purges this process's cache and, through the purge bus, every instance sharing the store. */
  async purge(kind: Purge['kind'], value: string): Promise<void> {
    const reach = await this.cache.purge(kind, value);
    if (reach === 'local-only') this.log.warn({ kind, value }, 'cache purge applied here only: the shared purge bus is unreachable');
  }

  /** Graceful stop: no new connections, in-flight requests finish up to the deadline, then connections close. */
  async drain(deadlineMs: number): Promise<'drained' | 'deadline'> {
    const result = await drainServer(this.servers, this.serverDeps, deadlineMs);
    this.connections.destroy();
    await Promise.all([this.cache.close(), this.limiterStore.close()]);
    return result;
  }

  private countBackends(): void {
    for (const pool of this.pipeline.runtime.pools.values()) for (const b of pool.backends) this.stats.ensure(pool.name, b.id);
  }
}
