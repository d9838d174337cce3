/**
 * Power of two choices over expected latency, the scheme of Finagle's and Linkerd's balancers: draw two distinct
 * backends at random and send to the cheaper. Drawing two instead of scanning all keeps workers that do not
 * share state from herding onto the same "best" backend. The cost is latency-model.ts's (not theirs): the
 * backend's recent latency, failures counting as slow, scaled up when it would carry more at once than usual.
 */
import type { Backend } from '../upstream/backend.ts';
import type { MonotonicClock, Random } from '../time.ts';
import type { Balancer, BalancerContext, BalancerDeps, Outcome } from './balancer.ts';
import { LatencyModel, type LatencyModelOptions } from './latency-model.ts';

export type P2cEwmaOptions = LatencyModelOptions;

export class P2cEwmaBalancer implements Balancer {
  private readonly clock: MonotonicClock;
  private readonly random: Random;
  private readonly model: LatencyModel;
  private backends: readonly Backend[] = [];

  constructor(deps: BalancerDeps, options: P2cEwmaOptions = {}) {
    this.clock = deps.clock;
    this.random = deps.random;
    this.model = new LatencyModel(deps.clock, options);
  }

  update(eligible: readonly Backend[]): void {
    this.backends = eligible.slice();
    this.model.update(this.backends);
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

  onRequestStart(backend: Backend): void {
    this.model.onRequestStart(backend);
  }

  onRequestEnd(backend: Backend, outcome: Outcome, durationMs: number): void {
    this.model.onRequestEnd(backend, outcome, durationMs);
  }

  /** Of backends a and b (indexes), the one whose cost is lower; a on a tie. */
  private cheaper(a: number, b: number): Backend {
    const now = this.clock.now();
    return this.model.cost(b, now) < this.model.cost(a, now) ? this.backends[b]! : this.backends[a]!;
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
