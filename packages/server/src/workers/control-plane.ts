/**
 * The control plane: the one place that decides. It holds the config and reloads it (validated first), runs
 * health checking once for all processes, takes the proxies' outcome reports, pushes backend states to them,
 * and keeps the events and aggregated statistics the admin API and metrics read.
 */
import type { Config } from '../config/schema.ts';
import { formatProblems, loadConfigFile, parseConfig, type ConfigProblem } from '../config/load.ts';
import { redactSecrets } from '../config/redact.ts';
import { HttpHealthChecker } from '../health/checker.ts';
import { HealthMonitor } from '../health/monitor.ts';
import type { HealthEvent, HealthSnapshot } from '../health/state.ts';
import type { Logger } from '../observability/logger.ts';
import type { MetricsSource } from '../observability/metrics.ts';
import type { StatsSnapshot } from '../observability/stats.ts';
import { systemRandom, systemTime, type Random, type Time } from '../time.ts';
import { Backend, type BackendState } from '../upstream/backend.ts';
import type { BackendStateUpdate } from './proxy-process.ts';
import { Registrations } from './registrations.ts';
import type { RuntimeChange, RuntimeChangeResult } from './runtime-change.ts';
import { TlsControl } from './tls-control.ts';
import { listenersOf } from '../config/listeners.ts';

/** How the control plane reaches the proxy processes: in-process calls, or IPC to cluster workers. */
export interface DataPlaneLink {
  applyConfig(config: Config, states: readonly BackendStateUpdate[]): void;
  applyBackendStates(states: readonly BackendStateUpdate[]): void;
  /** The sum over all proxy processes (from their last report, in cluster mode). */
  stats(): StatsSnapshot;
  /** Purges the cache of every proxy process (and, through the purge bus, of other instances). */
  purge(kind: 'url' | 'prefix' | 'tag', value: string): void;
}

export type FulcrumEvent =
  | { readonly at: string; readonly type: 'backend-state'; readonly pool: string; readonly backend: string; readonly from: BackendState; readonly to: BackendState; readonly reason: string }
  | { readonly at: string; readonly type: 'config-reloaded' }
  | { readonly at: string; readonly type: 'cache-purge'; readonly kind: 'url' | 'prefix' | 'tag'; readonly value: string }
  | { readonly at: string; readonly type: 'config-rejected'; readonly problems: readonly ConfigProblem[] }
  | { readonly at: string; readonly type: 'runtime-change'; readonly change: RuntimeChange; readonly by: string };

export type ReloadResult = { ok: true } | { ok: false; problems: ConfigProblem[] };

export type { RuntimeChange, RuntimeChangeResult } from './runtime-change.ts';

const EVENTS_KEPT = 500;

export interface ControlPlaneDeps {
  /** For health checking, registrations' expiry and the dates of events: the system's unless a test moves its own. */
  readonly time?: Time;
  /** Jitter of the health probes. */
  readonly random?: Random;
}

export class ControlPlane implements MetricsSource {
  private current: Config;
  private readonly configFile: string | undefined;
  private readonly log: Logger;
  private link: DataPlaneLink | undefined;
  private readonly monitor: HealthMonitor;
  private readonly checker = new HttpHealthChecker();
  /** Its clocks and timers, which what it drives (the admin API's event stream) uses too. */
  readonly time: Time;
  /** Certificates and ticket keys for the TLS listeners. */
  readonly tls: TlsControl;
  /** Backends that registered themselves and renew by heartbeat. */
  readonly registrations: Registrations;
  /** pool → backend id → the control plane's own Backend object, whose state the monitor decides. */
  private backendsByPool = new Map<string, Map<string, Backend>>();
  private readonly ejectionCounts = new Map<string, number>();
  private readonly reloadCounts = { ok: 0, failed: 0 };
  private readonly recentEvents: FulcrumEvent[] = [];
  private readonly listeners = new Set<(e: FulcrumEvent) => void>();
  /** Warmth steps arrive often during slow start; they are sent in one batch per tick. */
  private pendingStates = new Map<string, BackendStateUpdate>();
  private flushScheduled = false;

  constructor(config: Config, configFile: string | undefined, log: Logger, deps: ControlPlaneDeps = {}) {
    this.current = config;
    this.configFile = configFile;
    this.log = log;
    this.time = deps.time ?? systemTime;
    this.registrations = new Registrations(this, this.time);
    this.tls = new TlsControl(config, log, this.time);
    this.monitor = new HealthMonitor({
      clock: this.time.clock,
      timers: this.time.timers,
      random: deps.random ?? systemRandom,
      checker: this.checker,
      onChange: (e) => this.onHealthChange(e),
    });
    this.installBackends(config);
  }

  get config(): Config {
    return this.current;
  }

  /** Connects the proxies and sends them the current states. */
  attach(link: DataPlaneLink): void {
    this.link = link;
    link.applyBackendStates(this.allStates());
  }

  /** A proxy's report of how a request to a backend went (passive health). */
  report(pool: string, backendId: string, outcome: 'success' | 'failure'): void {
    const backend = this.backendsByPool.get(pool)?.get(backendId);
    if (backend !== undefined) this.monitor.report(pool, backend, outcome);
  }

  /** Re-reads the config file; a bad one is refused with its problems and the running config stays. */
  async reload(): Promise<ReloadResult> {
    if (this.configFile === undefined) {
      return { ok: false, problems: [{ path: '', message: 'running on the embedded demo config: there is no file to reload' }] };
    }
    const result = await loadConfigFile(this.configFile);
    if (!result.ok) {
      this.reloadCounts.failed++;
      this.log.error({ problems: result.problems }, `config rejected, keeping the running one:\n${formatProblems(result.problems)}`);
      this.emit({ at: this.now(), type: 'config-rejected', problems: result.problems });
      return { ok: false, problems: result.problems };
    }
    const refused = await this.tls.reloadFiles(result.config);
    if (refused.length > 0) {
      this.reloadCounts.failed++;
      this.emit({ at: this.now(), type: 'config-rejected', problems: refused });
      return { ok: false, problems: refused };
    }
    this.apply(result.config);
    return { ok: true };
  }

  /** Switches to a validated config read from disk; self-registered backends are carried over (registrations.ts). */
  apply(config: Config): void {
    for (const [what, before, after] of [
      ['listeners', startOnly(this.current), startOnly(config)],
      ['acme', JSON.stringify(this.current.acme), JSON.stringify(config.acme)],
      ['admin.listen', this.current.admin.listen, config.admin.listen],
      ['workers', String(this.current.workers), String(config.workers)],
      ['limits', JSON.stringify(this.current.limits), JSON.stringify(config.limits)],
      ['http2', JSON.stringify(this.current.http2), JSON.stringify(config.http2)],
      ['rate_limit', JSON.stringify(redactSecrets(this.current.rate_limit)), JSON.stringify(redactSecrets(config.rate_limit))],
    ] as const) {
      if (before !== after) this.log.warn(`${what} changed from ${before} to ${after}: this takes effect on restart`);
    }
    this.install(this.withRegistrations(config));
    this.reloadCounts.ok++;
    this.log.info('config reloaded');
    this.emit({ at: this.now(), type: 'config-reloaded' });
  }

  /**
   * A runtime change (admin API): a new config derived from the running one, validated by the schema like a file
   * and installed like a reload, so unchanged backends keep their state and counters and every proxy gets it.
   * Not written to the config file: a reload from disk replaces it with the file's view (self-registrations
   * excepted: those are carried over).
   */
  change(change: RuntimeChange, by: string): RuntimeChangeResult {
    if (!Object.hasOwn(this.current.pools, change.pool)) return { ok: false, reason: 'no-pool' };
    const next = structuredClone(this.current);
    this.keepRuntimeDrains(next);
    const pool = next.pools[change.pool]!;
    const index = change.kind === 'algorithm' ? -1 : pool.backends.findIndex((b) => new URL(b.url).origin === change.backend);
    switch (change.kind) {
      case 'weight':
        if (index === -1) return { ok: false, reason: 'no-backend' };
        pool.backends[index]!.weight = change.weight;
        break;
      case 'add-backend':
        if (index !== -1) return { ok: false, reason: 'exists' };
        pool.backends.push({ ...change.config });
        break;
      case 'remove-backend':
        if (index === -1) return { ok: false, reason: 'no-backend' };
        pool.backends.splice(index, 1);
        break;
      case 'algorithm':
        pool.algorithm = change.algorithm;
        break;
    }
    // Already resolved: no environment references are read again (env {}).
    const parsed = parseConfig(next, {});
    if (!parsed.ok) {
      this.log.error({ by, change: redactSecrets(change), problems: parsed.problems }, 'runtime change rejected');
      return { ok: false, reason: 'invalid', problems: parsed.problems };
    }
    this.install(parsed.config);
    this.log.info({ by, change: redactSecrets(change) }, 'runtime change');
    this.emit({ at: this.now(), type: 'runtime-change', change, by });
    return { ok: true };
  }

  purge(kind: 'url' | 'prefix' | 'tag', value: string): void {
    this.link?.purge(kind, value);
    this.emit({ at: this.now(), type: 'cache-purge', kind, value });
  }

  /**
   * An operator's drain (admin API), decided by the monitor like a health change, so it reaches every proxy the
   * same way. Not written to the config file: a reload applies the file's `drain:` flags again. Returns the
   * backend's state afterwards; undefined for an unknown pool or backend.
   */
  drain(pool: string, backendId: string): BackendState | undefined {
    const backend = this.backendsByPool.get(pool)?.get(backendId);
    if (backend === undefined) return undefined;
    this.monitor.drain(pool, backend);
    return backend.state;
  }

  /** Ends an operator's drain (see drain). */
  undrain(pool: string, backendId: string): BackendState | undefined {
    const backend = this.backendsByPool.get(pool)?.get(backendId);
    if (backend === undefined) return undefined;
    this.monitor.undrain(pool, backend);
    return backend.state;
  }

  health(): HealthSnapshot {
    return this.monitor.snapshot();
  }

  events(): readonly FulcrumEvent[] {
    return this.recentEvents;
  }

  subscribe(listener: (e: FulcrumEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): StatsSnapshot {
    return this.link?.stats() ?? { pools: {}, connections: 0 };
  }

  backendStates(): Record<string, Record<string, BackendState>> {
    const out: Record<string, Record<string, BackendState>> = {};
    for (const [pool, backends] of this.backendsByPool) {
      out[pool] = Object.fromEntries([...backends.values()].map((b) => [b.id, b.state]));
    }
    return out;
  }

  ejections(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [pool, backends] of this.backendsByPool) {
      out[pool] = Object.fromEntries([...backends.keys()].map((id) => [id, this.ejectionCounts.get(`${pool} ${id}`) ?? 0]));
    }
    return out;
  }

  reloads(): { ok: number; failed: number } {
    return { ...this.reloadCounts };
  }

  /** The control plane's view of one pool's backends (for the admin API). */
  backendsOf(pool: string): readonly Backend[] {
    return [...(this.backendsByPool.get(pool)?.values() ?? [])];
  }

  stop(): void {
    this.tls.stop();
    this.registrations.stop();
    this.monitor.stop();
    this.checker.close();
  }

  /**
   * The file's config with the live registrations carried over, validated as a whole like any change; when they
   * would not fit it, the file's config alone, and each registration comes back with its next heartbeat.
   */
  private withRegistrations(config: Config): Config {
    const carried = this.registrations.carryOver(config, (pool, id) => this.backendsByPool.get(pool)?.get(id)?.state === 'draining');
    if (carried === config) return config;
    const parsed = parseConfig(carried, {});
    if (parsed.ok) return parsed.config;
    this.log.error({ problems: parsed.problems }, 'self-registered backends do not fit the reloaded config: dropped until they register again');
    this.registrations.forgetAll();
    return config;
  }

  private install(config: Config): void {
    this.current = config;
    this.installBackends(config);
    this.link?.applyConfig(config, this.allStates());
  }

  /**
   * Writes operators' runtime drains into a derived config, since installBackends undrains every backend whose
   * config says `drain: false`: another runtime change must not end a drain done through the API.
   */
  private keepRuntimeDrains(config: Config): void {
    for (const [name, pool] of Object.entries(config.pools)) {
      for (const b of pool.backends) {
        if (this.backendsByPool.get(name)?.get(new URL(b.url).origin)?.state === 'draining') b.drain = true;
      }
    }
  }

  private installBackends(config: Config): void {
    const next = new Map<string, Map<string, Backend>>();
    for (const [name, pool] of Object.entries(config.pools)) {
      const previous = this.backendsByPool.get(name);
      const backends = new Map<string, Backend>();
      for (const b of pool.backends) {
        const id = new URL(b.url).origin;
        const maxConnections = b.max_connections ?? pool.circuit_breaker.max_connections;
        const backend = previous?.get(id) ?? new Backend({ url: b.url, weight: b.weight, maxConnections });
        backend.weight = b.weight;
        backend.maxConnections = maxConnections;
        backends.set(id, backend);
      }
      next.set(name, backends);
    }
    this.backendsByPool = next;
    this.monitor.setPools(
      Object.entries(config.pools).map(([name, pool]) => ({
        name,
        backends: [...next.get(name)!.values()],
        health: pool.health,
      })),
    );
    // Drains written in the config: applied after setPools so that they win over a fresh state.
    for (const [name, pool] of Object.entries(config.pools)) {
      for (const b of pool.backends) {
        const backend = next.get(name)!.get(new URL(b.url).origin)!;
        if (b.drain && backend.state !== 'draining') this.monitor.drain(name, backend);
        if (!b.drain && backend.state === 'draining') this.monitor.undrain(name, backend);
      }
    }
  }

  private allStates(): BackendStateUpdate[] {
    const out: BackendStateUpdate[] = [];
    for (const [pool, backends] of this.backendsByPool) {
      for (const b of backends.values()) out.push({ pool, id: b.id, state: b.state, warmth: b.warmth });
    }
    return out;
  }

  private onHealthChange(e: HealthEvent): void {
    const key = `${e.pool} ${e.backend.id}`;
    this.pendingStates.set(key, { pool: e.pool, id: e.backend.id, state: e.to, warmth: e.backend.warmth });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flushStates());
    }
    if (e.from === e.to) return; // a slow start step: not an event worth a log line
    if (e.reason === 'ejected') this.ejectionCounts.set(key, (this.ejectionCounts.get(key) ?? 0) + 1);
    this.log.warn({ pool: e.pool, backend: e.backend.id, from: e.from, to: e.to, reason: e.reason }, `backend ${e.to}`);
    this.emit({ at: this.now(), type: 'backend-state', pool: e.pool, backend: e.backend.id, from: e.from, to: e.to, reason: e.reason });
  }

  private flushStates(): void {
    this.flushScheduled = false;
    const states = [...this.pendingStates.values()];
    this.pendingStates.clear();
    // The event carries the state at the time; the object holds the latest (warmth moves on).
    const fresh = states.map((s) => {
      const b = this.backendsByPool.get(s.pool)?.get(s.id);
      return b ? { ...s, state: b.state, warmth: b.warmth } : s;
    });
    this.link?.applyBackendStates(fresh);
  }

  /** An event's date. */
  private now(): string {
    return new Date(this.time.wallClock.now()).toISOString();
  }

  /** Events are shown by the admin API and its live stream: they never carry a secret (a backend URL's password). */
  private emit(raw: FulcrumEvent): void {
    const event = redactSecrets(raw) as FulcrumEvent;
    this.recentEvents.push(event);
    if (this.recentEvents.length > EVENTS_KEPT) this.recentEvents.shift();
    for (const l of this.listeners) l(event);
  }
}

/** What of the listeners needs a restart to change: all but the certificate files, which a reload re-reads. */
function startOnly(config: Config): string {
  return JSON.stringify(listenersOf(config).map((l) => ({ ...l, tls: l.tls && { ...l.tls, certificates: undefined } })));
}
