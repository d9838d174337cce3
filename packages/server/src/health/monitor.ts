/**
 * The health monitor: the scheduling and I/O around the state machine (state.ts). It probes each backend of a
 * pool with active checks on a jittered schedule, takes the proxy's per-request reports, times ejections and
 * slow start steps with one timer, and passes every change to `onChange` (the pool rebuilds its balancer
 * there). It is the only writer of `backend.state` and `backend.warmth`.
 */
import { systemTimers, type MonotonicClock, type Random, type TimerHandle, type Timers } from '../time.ts';
import type { Backend } from '../upstream/backend.ts';
import type { HealthChecker } from './checker.ts';
import { HealthState, type HealthEntry, type HealthEvent, type HealthPool, type HealthSnapshot } from './state.ts';

export type { BackendHealth, HealthEvent, HealthPool, HealthReason, HealthSnapshot } from './state.ts';

export interface HealthMonitorDeps {
  readonly clock: MonotonicClock;
  readonly random: Random;
  readonly checker: HealthChecker;
  readonly onChange: (e: HealthEvent) => void;
  /** Node's (unref'd) unless given: a test moves fake ones. */
  readonly timers?: Timers;
}

/** Probes of one backend are spaced by `interval` ± this share, so that backends are not probed in lockstep. */
export const PROBE_JITTER = 0.1;
/** The first probe comes within this share of `interval` after start: soon, but spread out. */
export const FIRST_PROBE_SPREAD = 0.1;
/** Floor on the probe interval, against a busy loop from `interval: 0`. */
export const MIN_PROBE_INTERVAL_MS = 10;

interface Probe {
  timer: TimerHandle | undefined;
  controller: AbortController | undefined;
  /** The interval the pending timer was set with: a reload that changes it reschedules. */
  interval: number;
}

export class HealthMonitor {
  private readonly clock: MonotonicClock;
  private readonly random: Random;
  private readonly checker: HealthChecker;
  private readonly onChange: (e: HealthEvent) => void;
  private readonly timers: Timers;
  private readonly state: HealthState;
  private readonly probes = new Map<HealthEntry, Probe>();
  private tickTimer: TimerHandle | undefined = undefined;
  private tickAt: number | undefined = undefined;
  /** Set when an event was emitted: the next deadline may have moved. */
  private changed = false;
  private stopped = false;

  constructor(deps: HealthMonitorDeps) {
    this.clock = deps.clock;
    this.random = deps.random;
    this.checker = deps.checker;
    this.onChange = deps.onChange;
    this.timers = deps.timers ?? systemTimers;
    this.state = new HealthState((e) => {
      this.changed = true;
      this.onChange(e);
    });
  }

  /**
   * Sets the pools to watch, at start and on each reload; see HealthState.setPools for what is kept. Backends
   * with active checks get their first probe soon; removed ones stop being probed (an in-flight probe is
   * aborted). Backend states are up to date when this returns, so the caller may build balancers right after.
   */
  setPools(pools: readonly HealthPool[]): void {
    if (this.stopped) return;
    this.state.setPools(pools, this.clock.now());
    for (const [entry, probe] of this.probes) {
      if (!this.state.has(entry) || !entry.active) this.cancel(entry, probe);
    }
    for (const entry of this.state.entries()) {
      const active = entry.active;
      if (!active) continue;
      let probe = this.probes.get(entry);
      if (probe && (probe.timer === undefined || probe.interval === active.interval)) continue;
      if (probe) this.timers.clearTimeout(probe.timer);
      else this.probes.set(entry, (probe = { timer: undefined, controller: undefined, interval: 0 }));
      this.schedule(entry, probe, this.random.next() * FIRST_PROBE_SPREAD * active.interval, active.interval);
    }
    this.reschedule(true);
  }

  /** A request's outcome, for passive outlier detection. Called by the proxy once per request. */
  report(pool: string, backend: Backend, outcome: 'success' | 'failure'): void {
    if (this.stopped) return;
    this.state.report(pool, backend, outcome, this.clock.now());
    this.reschedule();
  }

  /** Takes a backend out of rotation (admin API); its health keeps being tracked. False when unknown. */
  drain(pool: string, backend: Pick<Backend, 'id'>): boolean {
    const found = this.state.drain(pool, backend, this.clock.now());
    this.reschedule();
    return found;
  }

  /** Returns a drained backend to the state its health gives. False when unknown. */
  undrain(pool: string, backend: Pick<Backend, 'id'>): boolean {
    const found = this.state.undrain(pool, backend, this.clock.now());
    this.reschedule();
    return found;
  }

  /** Per pool, per backend id: state, warmth, counters and ejection, for the admin API. */
  snapshot(): HealthSnapshot {
    return this.state.snapshot(this.clock.now());
  }

  /** Clears every timer and aborts in-flight probes; the monitor does nothing afterwards. */
  stop(): void {
    this.stopped = true;
    for (const [entry, probe] of this.probes) this.cancel(entry, probe);
    if (this.tickTimer !== undefined) this.timers.clearTimeout(this.tickTimer);
    this.tickTimer = this.tickAt = undefined;
  }

  private schedule(entry: HealthEntry, probe: Probe, delayMs: number, interval: number): void {
    probe.interval = interval;
    probe.timer = this.timers.setTimeout(() => this.runProbe(entry, probe), delayMs);
  }

  private runProbe(entry: HealthEntry, probe: Probe): void {
    probe.timer = undefined;
    const active = entry.active;
    if (!active || this.probes.get(entry) !== probe) return;
    const controller = new AbortController();
    probe.controller = controller;
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(active.timeout)]);
    // The verdict is a failure once the signal fires, even from a checker that ignores it.
    const verdict = new Promise<boolean>((resolve) => {
      signal.addEventListener('abort', () => resolve(false), { once: true });
      try {
        this.checker.check(entry.backend, active.path, signal).then(resolve, () => resolve(false));
      } catch {
        resolve(false);
      }
    });
    void verdict.then((passed) => this.probeDone(entry, probe, passed));
  }

  private probeDone(entry: HealthEntry, probe: Probe, passed: boolean): void {
    probe.controller = undefined;
    if (this.probes.get(entry) !== probe) return; // removed or stopped meanwhile
    this.state.onProbeResult(entry.pool, entry.backend, passed, this.clock.now());
    this.reschedule();
    const next = entry.active; // the config may have changed during the probe
    if (next) this.schedule(entry, probe, this.jittered(next.interval), next.interval);
  }

  private jittered(intervalMs: number): number {
    const base = Math.max(MIN_PROBE_INTERVAL_MS, intervalMs);
    return base * (1 - PROBE_JITTER + 2 * PROBE_JITTER * this.random.next());
  }

  private cancel(entry: HealthEntry, probe: Probe): void {
    if (probe.timer !== undefined) this.timers.clearTimeout(probe.timer);
    probe.controller?.abort();
    probe.timer = probe.controller = undefined;
    this.probes.delete(entry);
  }

  /** Keeps one timer at the state's next deadline (ejection end, slow start step), when anything changed. */
  private reschedule(force = false): void {
    if (!this.changed && !force) return;
    this.changed = false;
    if (this.stopped) return;
    const now = this.clock.now();
    const at = this.state.nextDeadline(now);
    if (at === this.tickAt) return;
    if (this.tickTimer !== undefined) this.timers.clearTimeout(this.tickTimer);
    this.tickTimer = this.tickAt = undefined;
    if (at === undefined) return;
    this.tickAt = at;
    this.tickTimer = this.timers.setTimeout(() => {
      this.tickTimer = this.tickAt = undefined;
      this.state.tick(this.clock.now());
      this.reschedule(true);
    }, Math.max(0, Math.ceil(at - now)));
  }
}
