/**
 * Backends that register themselves (the Python companion does, with the admin token): each registration is a
 * runtime addition to its pool that lives while it is renewed. A heartbeat (the same POST again) renews it, and
 * applies a changed weight; one whose time to live passes without a heartbeat is removed, as is one that
 * deregisters. Like every runtime change they are not written to the config file, but unlike the others they
 * outlive a reload from disk: the instances are still there and heartbeating, so the new config gets them back at
 * once (carryOver) instead of a pool of registered instances answering 503 until each one's next heartbeat.
 */
import type { BackendConfig, Config } from '../config/schema.ts';
import type { MonotonicClock, TimerHandle, Time, Timers } from '../time.ts';
import type { RuntimeChangeResult, RuntimeEditor } from './runtime-change.ts';

/** How often expiries are checked: a silent backend is removed up to this long after its TTL. */
export const SWEEP_MS = 250;

export type RegistrationResult =
  | { readonly ok: true; readonly renewed: boolean }
  | Exclude<RuntimeChangeResult, { ok: true }>
  | { readonly ok: false; readonly reason: 'configured' };

interface Registration {
  readonly pool: string;
  /** The backend's origin, its id. */
  readonly backend: string;
  /** As last registered (a heartbeat may change the weight): what a reload puts back. */
  config: BackendConfig;
  expiresAt: number;
}

export class Registrations {
  private readonly control: RuntimeEditor;
  private readonly clock: MonotonicClock;
  private readonly timers: Timers;
  /** `${pool} ${origin}` → the registration. */
  private readonly live = new Map<string, Registration>();
  private readonly timer: TimerHandle;

  constructor(control: RuntimeEditor, time: Pick<Time, 'clock' | 'timers'>) {
    this.control = control;
    this.clock = time.clock;
    this.timers = time.timers;
    this.timer = this.timers.setInterval(() => this.sweep(), SWEEP_MS);
  }

  /**
   * Registers, or renews, a backend for `ttlMs`. A backend the pool has by other means (its config file, or added
   * through the admin API) is not taken over (409).
   */
  heartbeat(pool: string, config: BackendConfig, ttlMs: number, by: string): RegistrationResult {
    const backend = new URL(config.url).origin;
    const key = `${pool} ${backend}`;
    const known = this.live.get(key);
    const present = this.control.config.pools[pool]?.backends.find((b) => new URL(b.url).origin === backend);
    if (present === undefined) {
      const added = this.control.change({ kind: 'add-backend', pool, backend, config }, by);
      if (!added.ok) return added;
    } else if (known === undefined) {
      return { ok: false, reason: 'configured' };
    } else if (present.weight !== config.weight) {
      const changed = this.control.change({ kind: 'weight', pool, backend, weight: config.weight }, by);
      if (!changed.ok) return changed;
    }
    this.live.set(key, { pool, backend, config: { ...config }, expiresAt: this.clock.now() + ttlMs });
    return { ok: true, renewed: present !== undefined };
  }

  /** Removes a registered backend now; its requests in flight finish. */
  deregister(pool: string, backend: string, by: string): RegistrationResult {
    const key = `${pool} ${backend}`;
    if (!this.live.has(key)) return { ok: false, reason: 'no-backend' };
    this.live.delete(key);
    const removed = this.control.change({ kind: 'remove-backend', pool, backend }, by);
    return removed.ok ? { ok: true, renewed: false } : removed;
  }

  /**
   * A reload from disk: `config` (the file's) with the live registrations added back to their pools, each as last
   * registered and still drained if `isDraining` says an operator drained it. One whose pool the file removed is
   * forgotten, and so is one the file now lists: it is configured now, and its expiry must not remove it. Returns
   * `config` itself when nothing is carried over.
   */
  carryOver(config: Config, isDraining: (pool: string, backend: string) => boolean): Config {
    if (this.live.size === 0) return config;
    const next = structuredClone(config);
    for (const [key, r] of this.live) {
      const pool = Object.hasOwn(next.pools, r.pool) ? next.pools[r.pool]! : undefined;
      if (pool === undefined || pool.backends.some((b) => new URL(b.url).origin === r.backend)) {
        this.live.delete(key);
        continue;
      }
      pool.backends.push({ ...r.config, drain: isDraining(r.pool, r.backend) });
    }
    return next;
  }

  /** Forgets every registration (a reloaded config they do not fit): each comes back with its next heartbeat. */
  forgetAll(): void {
    this.live.clear();
  }

  isRegistered(pool: string, backend: string): boolean {
    return this.live.has(`${pool} ${backend}`);
  }

  stop(): void {
    this.timers.clearInterval(this.timer);
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [key, registration] of this.live) {
      if (registration.expiresAt > now) continue;
      this.live.delete(key);
      this.control.change({ kind: 'remove-backend', pool: registration.pool, backend: registration.backend }, 'ttl-expired');
    }
  }
}
