/**
 * Backends that register themselves (the Python companion does, with the admin token): each registration is a
 * runtime addition to its pool that lives while it is renewed. A heartbeat (the same POST again) renews it; one
 * whose time to live passes without a heartbeat is removed, as is one that deregisters. Like every runtime change
 * they are not written to the config file; a reload from disk drops them and the next heartbeat adds them back.
 */
import type { BackendConfig } from '../config/schema.ts';
import type { Clock } from '../time.ts';
import type { ControlPlane, RuntimeChangeResult } from './control-plane.ts';

/** How often expiries are checked: a silent backend is removed up to this long after its TTL. */
const SWEEP_MS = 250;

export type RegistrationResult = RuntimeChangeResult | { ok: false; reason: 'configured' };

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

  /** Registers, or renews, a backend for `ttlMs`. A backend the config file lists is not taken over (409). */
  heartbeat(pool: string, config: BackendConfig, ttlMs: number, by: string): RegistrationResult {
    const backend = new URL(config.url).origin;
    const key = `${pool} ${backend}`;
    const known = this.live.get(key);
    const present = this.control.config.pools[pool]?.backends.some((b) => new URL(b.url).origin === backend) ?? false;
    if (!present) {
      const added = this.control.change({ kind: 'add-backend', pool, backend, config }, by);
      if (!added.ok) return added;
    } else if (known === undefined) {
      return { ok: false, reason: 'configured' };
    }
    this.live.set(key, { expiresAt: this.clock.now() + ttlMs });
    return { ok: true };
  }

  /** Removes a registered backend now; its requests in flight finish. */
  deregister(pool: string, backend: string, by: string): RegistrationResult {
    const key = `${pool} ${backend}`;
    if (!this.live.has(key)) return { ok: false, reason: 'no-backend' };
    this.live.delete(key);
    return this.control.change({ kind: 'remove-backend', pool, backend }, by);
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
