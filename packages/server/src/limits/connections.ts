/**
 * Connection limits, decided at accept: open client connections in all (limits.max_connections) and from one
 * address (max_connections_per_ip; an IPv6 /64 counts as one, as for rate limits). A refused connection is closed
 * at once, before a byte is read: see README (Limits) for why not a 503.
 */
import { addressBucket } from './key.ts';

export type Admission = 'admitted' | 'over-total' | 'over-ip';

/** Decides whether a new connection may stay; every admitted one is released exactly once, when it closes. */
export interface ConnectionGate {
  admit(address: string): Admission | Promise<Admission>;
  release(address: string): void;
}

export interface ConnectionLimitsConfig {
  /** 0: no limit. */
  readonly maxTotal: number;
  /** 0: no limit. */
  readonly maxPerIp: number;
}

export class ConnectionCounter implements ConnectionGate {
  private readonly limits: ConnectionLimitsConfig;
  private readonly perIp = new Map<string, number>();
  open = 0;

  constructor(limits: ConnectionLimitsConfig) {
    this.limits = limits;
  }

  admit(address: string): Admission {
    const { maxTotal, maxPerIp } = this.limits;
    if (maxTotal > 0 && this.open >= maxTotal) return 'over-total';
    if (maxPerIp > 0) {
      const bucket = addressBucket(address);
      const n = this.perIp.get(bucket) ?? 0;
      if (n >= maxPerIp) return 'over-ip';
      this.perIp.set(bucket, n + 1);
    }
    this.open++;
    return 'admitted';
  }

  release(address: string): void {
    this.open--;
    if (this.limits.maxPerIp === 0) return;
    const bucket = addressBucket(address);
    const n = this.perIp.get(bucket) ?? 0;
    if (n <= 1) this.perIp.delete(bucket);
    else this.perIp.set(bucket, n - 1);
  }

  /** Open connections from `address`'s bucket (for tests and the admin API). */
  openFrom(address: string): number {
    return this.perIp.get(addressBucket(address)) ?? 0;
  }
}

/** Whether any connection limit is set: without one, accepting costs no bookkeeping at all. */
export function hasConnectionLimits(limits: ConnectionLimitsConfig): boolean {
  return limits.maxTotal > 0 || limits.maxPerIp > 0;
}
