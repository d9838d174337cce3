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

/**
 * A worker's gate when there are several: the cap in all split evenly between the workers, counted by each without
 * asking anyone (each holds its own sockets and file descriptors, and the primary deals new connections to the
 * workers in turn), and the per-address count asked of the primary, which sees every worker's connections (a
 * client's land on any worker). So the default (a cap in all, no per-address limit) costs no message per
 * connection. Undefined without any limit.
 */
export function workerGate(limits: ConnectionLimitsConfig, workers: number, primary: ConnectionGate): ConnectionGate | undefined {
  const local = limits.maxTotal > 0 ? new ConnectionCounter({ maxTotal: Math.ceil(limits.maxTotal / workers), maxPerIp: 0 }) : undefined;
  const remote = limits.maxPerIp > 0 ? primary : undefined;
  if (local === undefined || remote === undefined) return local ?? remote;
  return {
    admit(address) {
      const first = local.admit(address);
      if (first !== 'admitted') return first;
      const undo = (a: Admission) => {
        if (a !== 'admitted') local.release(address);
        return a;
      };
      const second = remote.admit(address);
      return second instanceof Promise ? second.then(undo) : undo(second);
    },
    release(address) {
      local.release(address);
      remote.release(address);
    },
  };
}
