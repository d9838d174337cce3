/**
 * Backends that register themselves (the Python companion does, with the admin token): each registration is a
 * runtime addition to its pool that lives while it is renewed. A heartbeat (the same POST again) renews it, and
 * applies a changed weight; one whose time to live passes without a heartbeat is removed, as is one that
 * deregisters. Like every runtime change they are not written to the config file: a reload from disk drops them
 * (and forgets them here, so that a backend the new file lists is never removed by an old registration's expiry),
 * and the next heartbeat adds them back.
 */
import type { BackendConfig } from '../config/schema.ts';
import type { Clock } from '../time.ts';
import type { ControlPlane, RuntimeChangeResult } from './control-plane.ts';

/** How often expiries are checked: a silent backend is removed up to this long after its TTL. */
const SWEEP_MS = 250;

export type RegistrationResult =
  | { readonly ok: true; readonly renewed: boolean }
  | Exclude<RuntimeChangeResult, { ok: true }>
  | { readonly ok: false; readonly reason: 'configured' };

interface Registration {
  expiresAt: number;
}

export class Registrations {
  private readonly control: ControlPlane;
  private readonly clock: Clock;
  /** `${pool} ${origin}` → expiry. */
  private readonly live = new Map<string, Registration>();
  private readonly timer: NodeJS.Timeout;

  constructor(control: ControlPlane, clock: Clock) {
    this.control = control;
    this.clock = clock;
    this.timer = setInterval(() => this.sweep(), SWEEP_MS).unref();
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
    this.live.set(key, { expiresAt: this.clock.now() + ttlMs });
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

  /** A reload from disk replaced every runtime change: no backend is registered any more until it heartbeats. */
  forgetAll(): void {
    this.live.clear();
  }

  isRegistered(pool: string, backend: string): boolean {
    return this.live.has(`${pool} ${backend}`);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [key, registration] of this.live) {
      if (registration.expiresAt > now) continue;
      this.live.delete(key);
      const space = key.indexOf(' ');
      // Already gone (a reload from disk): nothing to remove.
      this.control.change({ kind: 'remove-backend', pool: key.slice(0, space), backend: key.slice(space + 1) }, 'ttl-expired');
    }
  }
}
