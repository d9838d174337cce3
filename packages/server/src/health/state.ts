/**
 * The health state machine, with no timers and no I/O: every transition is a method given the time, so the
 * whole policy is table-tested with a ManualClock. The monitor (monitor.ts) drives it from timers and probes.
 *
 * Per backend it tracks, independently: draining (an operator's order), ejected (passive outlier detection
 * from real traffic), unhealthy (active probes) and the slow start ramp; `deriveState` is the one place they
 * combine into the `BackendState` written on the Backend. Only this module writes `backend.state` and
 * `backend.warmth`, and each change is reported as one HealthEvent.
 *
 * Backends start healthy (optimistic, like HAProxy): a pool takes traffic at once after start or reload, and
 * a dead backend is taken out by its first failed probes (`unhealthy` of them) or by passive ejection.
 */
import type { PoolConfig } from '../config/schema.ts';
import type { Backend, BackendState } from '../upstream/backend.ts';
import { decayedEjections, ejectionLimit, nextEjectionCount } from './outlier.ts';
import { nextWarmthChange, WARMTH_START, warmthAt } from './slow-start.ts';

export type HealthConfig = PoolConfig['health'];
export type ActiveHealthConfig = NonNullable<HealthConfig['active']>;

/** Why a backend's state or warmth changed: a closed set, used verbatim in logs and events. */
export type HealthReason =
  | 'probe-failed'
  | 'probe-passed'
  | 'ejected'
  | 'ejection-ended'
  | 'slow-start'
  | 'drain'
  | 'undrain'
  | 'added'
  | 'reconfigured';

/** One change of a backend's state or warmth (`from` === `to` for a warmth step, reason 'slow-start'). */
export interface HealthEvent {
  readonly pool: string;
  readonly backend: Backend;
  readonly from: BackendState;
  readonly to: BackendState;
  readonly reason: HealthReason;
}

/** A pool as the monitor sees it: its name, its Backend objects and its `health` config. */
export interface HealthPool {
  readonly name: string;
  readonly backends: readonly Backend[];
  readonly health: HealthConfig;
}

/** One backend's health, for the admin API. Times are on the monitor's clock (monotonic ms). */
export interface BackendHealth {
  readonly state: BackendState;
  readonly warmth: number;
  readonly draining: boolean;
  /** Consecutive failed / passed active probes. */
  readonly consecutiveFailures: number;
  readonly consecutivePasses: number;
  /** Consecutive failed requests reported by the proxy. */
  readonly consecutiveRequestFailures: number;
  /** Repeat count of passive ejections (after decay): the next ejection lasts (ejections + 1) x base. */
  readonly ejections: number;
  readonly ejectedUntil: number | null;
}

/** pool name → backend id → health. */
export type HealthSnapshot = Record<string, Record<string, BackendHealth>>;

/** The precedence of the flags: draining > ejected > unhealthy > slow-start (warmth < 1) > healthy. */
export function deriveState(h: {
  readonly draining: boolean;
  readonly ejected: boolean;
  readonly unhealthy: boolean;
  readonly warmth: number;
}): BackendState {
  if (h.draining) return 'draining';
  if (h.ejected) return 'ejected';
  if (h.unhealthy) return 'unhealthy';
  if (h.warmth < 1) return 'slow-start';
  return 'healthy';
}

interface PoolEntry {
  readonly name: string;
  health: HealthConfig;
  backends: Map<string, BackendEntry>;
}

/** What the monitor needs to schedule probes of one backend; the same object while the backend stays. */
export interface HealthEntry {
  readonly pool: string;
  readonly backend: Backend;
  /** Active check settings now (they change on reload); undefined when the pool has none. */
  readonly active: ActiveHealthConfig | undefined;
}

class BackendEntry implements HealthEntry {
  poolEntry: PoolEntry;
  backend: Backend;
  draining = false;
  unhealthy = false;
  passes = 0;
  failures = 0;
  requestFailures = 0;
  ejections = 0;
  /** When the backend last came back from an ejection: the ejection count decays from then. */
  backSince = 0;
  ejectedUntil: number | undefined = undefined;
  /** Start of the slow start ramp, while ramping. */
  warmingSince: number | undefined = undefined;
  warmth = 1;

  constructor(pool: PoolEntry, backend: Backend) {
    this.poolEntry = pool;
    this.backend = backend;
  }
  get pool(): string {
    return this.poolEntry.name;
  }
  get active(): ActiveHealthConfig | undefined {
    return this.poolEntry.health.active;
  }
}

export class HealthState {
  private pools = new Map<string, PoolEntry>();
  private started = false;
  private readonly emit: (e: HealthEvent) => void;

  constructor(emit: (e: HealthEvent) => void) {
    this.emit = emit;
  }

  /**
   * Replaces the set of pools (at start and on each reload). A backend that stays (same pool name and id)
   * keeps its health, carried onto the new Backend object if the caller made one; a removed one is forgotten;
   * a new one starts healthy, or in slow start when it joins after the first call and slow start is on.
   * States are written on the Backend objects before this returns.
   */
  setPools(pools: readonly HealthPool[], now: number): void {
    const next = new Map<string, PoolEntry>();
    for (const spec of pools) {
      const old = this.pools.get(spec.name);
      const pool: PoolEntry = { name: spec.name, health: spec.health, backends: new Map() };
      for (const backend of spec.backends) {
        const kept = old?.backends.get(backend.id);
        const entry = kept ? this.carry(kept, pool, backend) : new BackendEntry(pool, backend);
        pool.backends.set(backend.id, entry);
        if (kept) this.reconfigure(entry, now);
        else this.add(entry, now);
      }
      next.set(spec.name, pool);
    }
    this.pools = next;
    this.started = true;
  }

  /** The backends being tracked, for the monitor's probe schedule. */
  *entries(): IterableIterator<HealthEntry> {
    for (const pool of this.pools.values()) yield* pool.backends.values();
  }

  /** Whether `entry` is still tracked (it is dropped when its backend or pool leaves the config). */
  has(entry: HealthEntry): boolean {
    return this.pools.get(entry.pool)?.backends.get(entry.backend.id) === entry;
  }

  /**
   * An active probe's result: `unhealthy` failures in a row take the backend out, `healthy` passes bring it back.
   * `healthy` passes counted since a passive ejection also end it early, as HAProxy's checks bring back a server
   * its observed errors marked down and Envoy's successful_active_health_check_uneject_host does: a restarted
   * instance is back after one probe interval, not the whole ejection time. A backend whose real requests keep
   * failing is ejected again by them, for longer each time.
   */
  onProbeResult(pool: string, backend: Pick<Backend, 'id'>, passed: boolean, now: number): void {
    const entry = this.find(pool, backend);
    const active = entry?.active;
    if (!entry || !active) return;
    this.advance(entry, now);
    if (passed) {
      entry.passes++;
      entry.failures = 0;
      if (entry.passes < active.healthy) return;
      const uneject = entry.ejectedUntil !== undefined;
      if (!entry.unhealthy && !uneject) return;
      entry.unhealthy = false;
      if (uneject) {
        entry.ejectedUntil = undefined;
        entry.backSince = now;
      }
      this.comeBack(entry, now);
      this.apply(entry, 'probe-passed');
    } else {
      entry.failures++;
      entry.passes = 0;
      if (entry.unhealthy || entry.failures < active.unhealthy) return;
      entry.unhealthy = true;
      entry.warmingSince = undefined;
      this.apply(entry, 'probe-failed');
    }
  }

  /**
   * A request's outcome, from the proxy: `consecutive_failures` failures in a row eject the backend for
   * base x k, k its repeat count. Reports about an ejected backend are ignored (they are late answers to
   * requests sent before). When the pool is at its `max_ejected` limit the backend stays in, and each further
   * failure tries again. Called once per request: the common path is two map lookups.
   */
  report(pool: string, backend: Pick<Backend, 'id'>, outcome: 'success' | 'failure', now: number): void {
    const entry = this.find(pool, backend);
    const passive = entry?.poolEntry.health.passive;
    if (!entry || !passive) return;
    if (entry.ejectedUntil !== undefined) {
      this.advance(entry, now);
      if (entry.ejectedUntil !== undefined) return;
    }
    if (outcome === 'success') {
      entry.requestFailures = 0;
      return;
    }
    entry.requestFailures++;
    if (entry.requestFailures < passive.consecutive_failures) return;
    const { backends } = entry.poolEntry;
    if (ejectedCount(backends, now) >= ejectionLimit(backends.size, passive.max_ejected)) return;
    entry.ejections = nextEjectionCount(decayedEjections(entry.ejections, entry.backSince, now, passive.ejection));
    entry.ejectedUntil = now + passive.ejection * entry.ejections;
    entry.requestFailures = 0;
    entry.passes = 0; // only probes after the ejection may end it
    entry.warmingSince = undefined;
    this.apply(entry, 'ejected');
  }

  /** Takes the backend out of rotation whatever its health, which keeps being tracked. False when unknown. */
  drain(pool: string, backend: Pick<Backend, 'id'>, now: number): boolean {
    const entry = this.find(pool, backend);
    if (!entry) return false;
    this.advance(entry, now);
    entry.draining = true;
    this.apply(entry, 'drain');
    return true;
  }

  /** Ends a drain: the backend returns to the state its health gives. False when unknown. */
  undrain(pool: string, backend: Pick<Backend, 'id'>, now: number): boolean {
    const entry = this.find(pool, backend);
    if (!entry) return false;
    this.advance(entry, now);
    entry.draining = false;
    this.apply(entry, 'undrain');
    return true;
  }

  /** Applies what time alone changes: ejections that ended, slow start steps. */
  tick(now: number): void {
    for (const pool of this.pools.values()) for (const entry of pool.backends.values()) this.advance(entry, now);
  }

  /** When `tick` next has something to do, or undefined when nothing is timed. */
  nextDeadline(now: number): number | undefined {
    let at: number | undefined;
    for (const pool of this.pools.values()) {
      for (const e of pool.backends.values()) {
        if (e.ejectedUntil !== undefined && (at === undefined || e.ejectedUntil < at)) at = e.ejectedUntil;
        if (e.warmingSince !== undefined) {
          const step = nextWarmthChange(e.warmingSince, now, pool.health.slow_start);
          if (at === undefined || step < at) at = step;
        }
      }
    }
    return at;
  }

  snapshot(now: number): HealthSnapshot {
    const out: HealthSnapshot = {};
    for (const pool of this.pools.values()) {
      const backends: Record<string, BackendHealth> = {};
      const base = pool.health.passive?.ejection ?? 0;
      for (const [id, e] of pool.backends) {
        backends[id] = {
          state: e.backend.state,
          warmth: e.warmth,
          draining: e.draining,
          consecutiveFailures: e.failures,
          consecutivePasses: e.passes,
          consecutiveRequestFailures: e.requestFailures,
          ejections: e.ejectedUntil === undefined ? decayedEjections(e.ejections, e.backSince, now, base) : e.ejections,
          ejectedUntil: e.ejectedUntil ?? null,
        };
      }
      out[pool.name] = backends;
    }
    return out;
  }

  private find(pool: string, backend: Pick<Backend, 'id'>): BackendEntry | undefined {
    return this.pools.get(pool)?.backends.get(backend.id);
  }

  /** A backend that stays across a reload: same entry, possibly a new Backend object that takes its state. */
  private carry(entry: BackendEntry, pool: PoolEntry, backend: Backend): BackendEntry {
    if (backend !== entry.backend) {
      backend.state = entry.backend.state;
      backend.warmth = entry.backend.warmth;
    }
    entry.poolEntry = pool;
    entry.backend = backend;
    return entry;
  }

  private add(entry: BackendEntry, now: number): void {
    entry.warmth = 1;
    if (this.started && entry.poolEntry.health.slow_start > 0) this.startWarming(entry, now);
    this.apply(entry, 'added');
  }

  /** A kept backend under a possibly changed config: what the config no longer allows ends. */
  private reconfigure(entry: BackendEntry, now: number): void {
    const health = entry.poolEntry.health;
    this.advance(entry, now);
    let changed = false;
    if (!health.active && (entry.unhealthy || entry.passes > 0 || entry.failures > 0)) {
      entry.passes = entry.failures = 0;
      if (entry.unhealthy) {
        entry.unhealthy = false;
        this.comeBack(entry, now);
        changed = true;
      }
    }
    if (!health.passive && (entry.ejectedUntil !== undefined || entry.ejections > 0)) {
      entry.requestFailures = entry.ejections = 0;
      if (entry.ejectedUntil !== undefined) {
        entry.ejectedUntil = undefined;
        this.comeBack(entry, now);
        changed = true;
      }
    }
    if (health.slow_start <= 0 && entry.warmingSince !== undefined) {
      entry.warmingSince = undefined;
      entry.warmth = 1;
      changed = true;
    }
    if (changed) this.apply(entry, 'reconfigured');
  }

  /** What time changes for one backend: the end of its ejection, its slow start step. */
  private advance(entry: BackendEntry, now: number): void {
    let reason: HealthReason | undefined;
    if (entry.ejectedUntil !== undefined && now >= entry.ejectedUntil) {
      entry.backSince = entry.ejectedUntil;
      entry.ejectedUntil = undefined;
      this.comeBack(entry, now);
      reason = 'ejection-ended';
    }
    if (entry.warmingSince !== undefined) {
      const duration = entry.poolEntry.health.slow_start;
      entry.warmth = warmthAt(now - entry.warmingSince, duration);
      if (entry.warmth >= 1) entry.warmingSince = undefined;
      reason ??= 'slow-start';
    }
    if (reason) this.apply(entry, reason);
  }

  /** A backend leaving unhealthy or ejected: once neither holds, it ramps up again (or is at full weight). */
  private comeBack(entry: BackendEntry, now: number): void {
    if (entry.unhealthy || entry.ejectedUntil !== undefined) return;
    if (entry.poolEntry.health.slow_start > 0) this.startWarming(entry, now);
    else entry.warmth = 1;
  }

  private startWarming(entry: BackendEntry, now: number): void {
    entry.warmingSince = now;
    entry.warmth = WARMTH_START;
  }

  /** Writes the derived state and warmth on the Backend, and emits an event when either changed. */
  private apply(entry: BackendEntry, reason: HealthReason): void {
    const to = deriveState({
      draining: entry.draining,
      ejected: entry.ejectedUntil !== undefined,
      unhealthy: entry.unhealthy,
      warmth: entry.warmth,
    });
    const backend = entry.backend;
    const from = backend.state;
    const changed = from !== to || backend.warmth !== entry.warmth;
    backend.state = to;
    backend.warmth = entry.warmth;
    if (changed) this.emit({ pool: entry.pool, backend, from, to, reason });
  }
}

function ejectedCount(backends: ReadonlyMap<string, BackendEntry>, now: number): number {
  let n = 0;
  for (const e of backends.values()) if (e.ejectedUntil !== undefined && now < e.ejectedUntil) n++;
  return n;
}
