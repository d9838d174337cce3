/**
 * Power of two choices over peak EWMA latency, as Finagle's and Linkerd's balancers do: draw two distinct
 * backends at random and send to the cheaper, where cost = latency × (in flight + 1) / weight. Drawing two
 * instead of scanning all keeps workers that do not share state from herding onto the same "best" backend.
 *
 * Peak EWMA: a sample above the estimate replaces it at once (react to trouble fast), a lower one blends in
 * with weight 1 - exp(-elapsed / tau) (trust recovery slowly). Read at pick time, the estimate also decays
 * towards 0 with the time since the last sample, so a backend that lost all its traffic is tried again and can
 * show it has recovered.
 */
import type { Backend } from '../upstream/backend.ts';
import type { MonotonicClock, Random } from '../time.ts';
import type { Balancer, BalancerContext, BalancerDeps, Outcome } from './balancer.ts';

export interface P2cEwmaOptions {
  /** Decay time constant of the latency estimate, in ms. */
  readonly tauMs?: number;
  /** A failed request counts as at least this slow, so that a backend failing fast is not mistaken for a fast one. */
  readonly failurePenaltyMs?: number;
}

export const P2C_EWMA_DEFAULTS = { tauMs: 10_000, failurePenaltyMs: 1_000 } as const;

/** Cost of a backend nobody has measured yet, when no backend has been measured. Any positive value works. */
const UNMEASURED_LATENCY_MS = 1;

class LatencyEstimate {
  /** Peak EWMA of the latency, in ms, as of `stamp`; NaN until the first sample. */
  ewma = Number.NaN;
  stamp = 0;
}

export class P2cEwmaBalancer implements Balancer {
  private readonly clock: MonotonicClock;
  private readonly random: Random;
  private readonly tauMs: number;
  private readonly failurePenaltyMs: number;
  private backends: readonly Backend[] = [];
  /** Aligned with `backends`, so that pick() needs no Map lookup. */
  private estimates: LatencyEstimate[] = [];
  private readonly byBackend = new Map<Backend, LatencyEstimate>();

  constructor(deps: BalancerDeps, options: P2cEwmaOptions = {}) {
    this.clock = deps.clock;
    this.random = deps.random;
    this.tauMs = options.tauMs ?? P2C_EWMA_DEFAULTS.tauMs;
    this.failurePenaltyMs = options.failurePenaltyMs ?? P2C_EWMA_DEFAULTS.failurePenaltyMs;
  }

  update(eligible: readonly Backend[]): void {
    // Backends that stay keep their history; one that left and comes back starts unmeasured.
    const kept = new Set(eligible);
    for (const backend of this.byBackend.keys()) if (!kept.has(backend)) this.byBackend.delete(backend);
    this.backends = eligible.slice();
    this.estimates = eligible.map((backend) => {
      let estimate = this.byBackend.get(backend);
      if (estimate === undefined) this.byBackend.set(backend, (estimate = new LatencyEstimate()));
      return estimate;
    });
  }

  pick(ctx: BalancerContext): Backend | undefined {
    const n = this.backends.length;
    const exclude = ctx.exclude;
    let a: number;
    let b: number;
    if (exclude === undefined || exclude.size === 0) {
      if (n <= 1) return this.backends[0];
      a = Math.floor(this.random.next() * n);
      b = Math.floor(this.random.next() * (n - 1));
    } else {
      // Retries: draw among the backends not yet tried, by rank.
      let m = 0;
      for (let i = 0; i < n; i++) if (!exclude.has(this.backends[i]!)) m++;
      if (m === 0) return undefined;
      if (m === 1) return this.backends[this.nthAllowed(0, exclude)];
      a = this.nthAllowed(Math.floor(this.random.next() * m), exclude);
      const rankB = Math.floor(this.random.next() * (m - 1));
      b = this.nthAllowed(rankB, exclude);
      // Same trick as below, by rank: skip over a's rank so that the two draws are distinct.
      if (b >= a) b = this.nextAllowed(b, exclude);
      return this.cheaper(a, b);
    }
    // Draw b among the n - 1 others: distinct from a without a retry loop.
    if (b >= a) b++;
    return this.cheaper(a, b);
  }

  onRequestEnd(backend: Backend, outcome: Outcome, durationMs: number): void {
    const estimate = this.byBackend.get(backend);
    // A request that ends after its backend left the pool tells nothing about the current pool.
    if (estimate === undefined) return;
    const sample = outcome === 'failure' ? Math.max(durationMs, this.failurePenaltyMs) : Math.max(durationMs, 0);
    const now = this.clock.now();
    if (Number.isNaN(estimate.ewma) || sample > estimate.ewma) {
      estimate.ewma = sample;
    } else {
      const w = Math.exp(-Math.max(now - estimate.stamp, 0) / this.tauMs);
      estimate.ewma = estimate.ewma * w + sample * (1 - w);
    }
    estimate.stamp = now;
  }

  /** The estimate of backend i as of now, or undefined when it has no sample yet. */
  private latency(i: number, now: number): number | undefined {
    const estimate = this.estimates[i]!;
    if (Number.isNaN(estimate.ewma)) return undefined;
    return estimate.ewma * Math.exp(-Math.max(now - estimate.stamp, 0) / this.tauMs);
  }

  private cheaper(a: number, b: number): Backend {
    const now = this.clock.now();
    const backendA = this.backends[a]!;
    const backendB = this.backends[b]!;
    const costA = this.cost(backendA, this.latency(a, now) ?? this.neutralLatency(now));
    const costB = this.cost(backendB, this.latency(b, now) ?? this.neutralLatency(now));
    return costB < costA ? backendB : backendA;
  }

  private cost(backend: Backend, latency: number): number {
    return (latency * (backend.inFlight + 1)) / backend.effectiveWeight;
  }

  /**
   * What an unmeasured backend is assumed to cost: the mean of the measured ones, so that a new backend gets
   * its share of traffic at once (its in-flight count then holds it back until its first response arrives).
   */
  private neutralLatency(now: number): number {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < this.estimates.length; i++) {
      const latency = this.latency(i, now);
      if (latency === undefined) continue;
      sum += latency;
      count++;
    }
    return count === 0 ? UNMEASURED_LATENCY_MS : sum / count;
  }

  /** Index of the backend of the given rank among those not excluded. */
  private nthAllowed(rank: number, exclude: ReadonlySet<Backend>): number {
    for (let i = 0; i < this.backends.length; i++) {
      if (exclude.has(this.backends[i]!)) continue;
      if (rank-- === 0) return i;
    }
    return -1;
  }

  /** Index of the first backend after i that is not excluded. */
  private nextAllowed(i: number, exclude: ReadonlySet<Backend>): number {
    for (let j = i + 1; j < this.backends.length; j++) if (!exclude.has(this.backends[j]!)) return j;
    return -1;
  }
}
