/**
 * Weighted random: each backend with probability weight / total. Stateless between picks, so it needs no
 * coordination between workers. The cumulative weights are built in update() and searched by bisection.
 */
import type { Backend } from '../upstream/backend.ts';
import type { Balancer, BalancerContext, BalancerDeps } from './balancer.ts';

export class RandomBalancer implements Balancer {
  private readonly random: BalancerDeps['random'];
  private backends: readonly Backend[] = [];
  /** cumulative[i] = sum of the weights of backends 0..i, as of the last update. */
  private cumulative = new Float64Array(0);
  /** Each backend's weight as of the last update. */
  private weights = new Float64Array(0);

  constructor(deps: BalancerDeps) {
    this.random = deps.random;
  }

  update(eligible: readonly Backend[]): void {
    this.backends = eligible.slice();
    this.cumulative = new Float64Array(eligible.length);
    this.weights = new Float64Array(eligible.length);
    let sum = 0;
    eligible.forEach((backend, i) => {
      this.weights[i] = backend.effectiveWeight;
      this.cumulative[i] = sum += backend.effectiveWeight;
    });
  }

  pick(ctx: BalancerContext): Backend | undefined {
    const n = this.backends.length;
    if (n === 0) return undefined;
    const exclude = ctx.exclude;
    if (exclude !== undefined && exclude.size > 0) return this.pickExcluding(exclude);
    const cumulative = this.cumulative;
    const target = this.random.next() * cumulative[n - 1]!;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return this.backends[lo];
  }

  /** Retries: a linear walk over the backends not yet tried (rare, so the O(n) is fine). */
  private pickExcluding(exclude: ReadonlySet<Backend>): Backend | undefined {
    const backends = this.backends;
    const weights = this.weights;
    let total = 0;
    let last: Backend | undefined;
    for (let i = 0; i < backends.length; i++) {
      if (exclude.has(backends[i]!)) continue;
      total += weights[i]!;
      last = backends[i];
    }
    let target = this.random.next() * total;
    for (let i = 0; i < backends.length; i++) {
      if (exclude.has(backends[i]!)) continue;
      target -= weights[i]!;
      if (target < 0) return backends[i];
    }
    // Rounding can leave `target` at 0 after the last weight: the last candidate is the right answer then.
    return last;
  }
}
