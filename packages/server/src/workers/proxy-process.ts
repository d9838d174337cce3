/**
 * The data plane of one process: listener, pipeline, tunnels and connection pools, driven by the control plane
 * (config, backend states) and reporting back (outcomes, stats). Runs inside each worker, or alone with workers: 1.
 */
import type { Config } from '../config/schema.ts';
import type { Logger } from '../observability/logger.ts';
import { TOP_LIST_LENGTH, TrafficStats, type StatsSnapshot } from '../observability/stats.ts';
import type { DownstreamServer } from '../downstream/server.ts';
import { createProxyServer, drainServer, type ProxyServerDeps } from '../proxy/server.ts';
import { ChallengeAnswers, type ChallengeSet } from '../acme/answers.ts';
import { listenersOf, type ListenerConfig } from '../config/listeners.ts';
import { ListenerCertificates } from '../tls/listener-certificates.ts';
import type { TlsMaterial } from '../tls/material.ts';
import { Pipeline, type PipelineDeps } from '../proxy/pipeline.ts';
import { buildRuntime } from '../proxy/runtime.ts';
import { UpgradeProxy } from '../proxy/upgrade.ts';
import { systemClock, systemRandom, wallClock } from '../time.ts';
import { createCache } from '../cache/create.ts';
import type { HttpCache } from '../cache/http-cache.ts';
import type { Purge } from '../cache/purge-bus.ts';
import type { BackendState } from '../upstream/backend.ts';
import { UpstreamConnections } from '../upstream/connections.ts';
import { splitHostPort } from '../config/listen.ts';

/** A backend's state as decided by the control plane. */
export interface BackendStateUpdate {
  readonly pool: string;
  readonly id: string;
  readonly state: BackendState;
  readonly warmth: number;
}

export class ProxyProcess {
  readonly stats = new TrafficStats();
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

  constructor(config: Config, log: Logger, reportOutcome: PipelineDeps['reportOutcome']) {
    this.log = log;
    const runtime = buildRuntime(config, undefined, { clock: systemClock, random: systemRandom, connections: this.connections });
    // The cache store is read at start, like the listener: a reload does not move it.
    this.cache = createCache(config.cache, wallClock);
    this.watchStore(log, config.cache.store);
    const deps: PipelineDeps = { clock: systemClock, wallClock, cache: this.cache, log, stats: this.stats, reportOutcome };
    this.pipeline = new Pipeline(runtime, deps);
    this.upgrades = new UpgradeProxy(this.pipeline, deps);
    this.serverDeps = { pipeline: this.pipeline, upgrades: this.upgrades, stats: this.stats, log };
    this.listeners = listenersOf(config);
    this.listeners.forEach((listener, i) => {
      const certificates = listener.tls && new ListenerCertificates(i, listener.tls, this.challenges);
      if (certificates) this.certificates.push(certificates);
      const tls = certificates && { source: certificates };
      const edge = { challenges: this.challenges, redirectPort: () => this.redirectPort(listener) };
      this.servers.push(createProxyServer(config.limits, this.serverDeps, { tls, edge }));
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
    const runtime = buildRuntime(config, this.pipeline.runtime, {
      clock: systemClock,
      random: systemRandom,
      connections: this.connections,
    });
    this.pipeline.runtime = runtime;
    this.applyBackendStates(states);
    this.countBackends();
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

  /** Purges this process's cache and, through the purge bus, every instance sharing the store. */
  async purge(kind: Purge['kind'], value: string): Promise<void> {
    const reach = await this.cache.purge(kind, value);
    if (reach === 'local-only') this.log.warn({ kind, value }, 'cache purge applied here only: the shared purge bus is unreachable');
  }

  /** Graceful stop: no new connections, in-flight requests finish up to the deadline, then connections close. */
  async drain(deadlineMs: number): Promise<'drained' | 'deadline'> {
    const result = await drainServer(this.servers, this.serverDeps, deadlineMs);
    this.connections.destroy();
    await this.cache.close();
    return result;
  }

  private countBackends(): void {
    for (const pool of this.pipeline.runtime.pools.values()) for (const b of pool.backends) this.stats.ensure(pool.name, b.id);
  }
}
