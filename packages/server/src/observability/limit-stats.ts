/**
 * What rate and connection limits count, on the hot path: plain numbers per policy, held by reference by each
 * route's limiter (kept across reloads by name), plus the 429s of the last minute for the admin API.
 */
import type { MonotonicClock as Clock } from '../time.ts';

export interface PolicyCounters {
  allowed: number;
  limited: number;
  /** 429s in the last minute (RECENT_MS). */
  limitedRecent: number;
}

export interface LimitsSnapshot {
  policies: Record<string, PolicyCounters>;
  /** Decisions the local limiter took because the shared store (Redis) failed or did not answer in time. */
  fallbacks: number;
  /** Client connections closed at accept: over limits.max_connections, or over max_connections_per_ip. */
  connectionsRefused: { total: number; perIp: number };
}

export const RECENT_MS = 60_000;
const BUCKET_MS = 1000;
const BUCKETS = RECENT_MS / BUCKET_MS;

/** A count over the last minute, in one-second buckets reused round the ring. */
export class RecentCount {
  private readonly counts = new Uint32Array(BUCKETS);
  private readonly seconds = new Float64Array(BUCKETS).fill(-Infinity);

  add(now: number): void {
    const second = Math.floor(now / BUCKET_MS);
    const i = second % BUCKETS;
    if (this.seconds[i] !== second) {
      this.seconds[i] = second;
      this.counts[i] = 0;
    }
    this.counts[i]!++;
  }

  total(now: number): number {
    const second = Math.floor(now / BUCKET_MS);
    let n = 0;
    for (let i = 0; i < BUCKETS; i++) if (second - this.seconds[i]! < BUCKETS) n += this.counts[i]!;
    return n;
  }
}

/** One policy's live counters: its limiter holds this object and counts into it. */
export class PolicyCount {
  allowed = 0;
  limited = 0;
  readonly recent = new RecentCount();
}

export class LimitStats {
  private readonly clock: Clock;
  private readonly policies = new Map<string, PolicyCount>();
  fallbacks = 0;
  refusedTotal = 0;
  refusedPerIp = 0;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** The counters of the policy named `name`, made at zero when new (so that it shows before its first request). */
  policy(name: string): PolicyCount {
    let p = this.policies.get(name);
    if (p === undefined) this.policies.set(name, (p = new PolicyCount()));
    return p;
  }

  limited(p: PolicyCount): void {
    p.limited++;
    p.recent.add(this.clock.now());
  }

  snapshot(): LimitsSnapshot {
    const now = this.clock.now();
    const policies: Record<string, PolicyCounters> = {};
    for (const [name, p] of this.policies) policies[name] = { allowed: p.allowed, limited: p.limited, limitedRecent: p.recent.total(now) };
    return { policies, fallbacks: this.fallbacks, connectionsRefused: { total: this.refusedTotal, perIp: this.refusedPerIp } };
  }
}

export const EMPTY_LIMITS: Readonly<LimitsSnapshot> = { policies: {}, fallbacks: 0, connectionsRefused: { total: 0, perIp: 0 } };

/** Several processes' limit counters as one. */
export function sumLimits(snapshots: Iterable<LimitsSnapshot | undefined>): LimitsSnapshot {
  const total: LimitsSnapshot = { policies: {}, fallbacks: 0, connectionsRefused: { total: 0, perIp: 0 } };
  for (const s of snapshots) {
    if (s === undefined) continue;
    total.fallbacks += s.fallbacks;
    total.connectionsRefused.total += s.connectionsRefused.total;
    total.connectionsRefused.perIp += s.connectionsRefused.perIp;
    for (const [name, p] of Object.entries(s.policies)) {
      // Policy names are user text: "constructor" must not hit the prototype.
      const into = Object.hasOwn(total.policies, name) ? total.policies[name]! : (total.policies[name] = { allowed: 0, limited: 0, limitedRecent: 0 });
      into.allowed += p.allowed;
      into.limited += p.limited;
      into.limitedRecent += p.limitedRecent;
    }
  }
  return total;
}
