/** Round robin: each eligible backend in turn, weights ignored. Retries skip the backends already tried. */
import type { Backend } from '../upstream/backend.ts';
import type { Balancer, BalancerContext, BalancerDeps } from './balancer.ts';

export class RoundRobinBalancer implements Balancer {
  private readonly deps: BalancerDeps;
  private backends: readonly Backend[] = [];
  /** Index of the next backend to try. */
  private next = 0;

  constructor(deps: BalancerDeps) {
    this.deps = deps;
  }

  update(eligible: readonly Backend[]): void {
    const n = eligible.length;
    // A random start, so that workers started together do not all send their first requests to one backend.
    this.next = this.backends.length === 0 ? Math.floor(this.deps.random.next() * n) : n === 0 ? 0 : this.next % n;
    this.backends = eligible.slice();
  }

  pick(ctx: BalancerContext): Backend | undefined {
    const backends = this.backends;
    const n = backends.length;
    const exclude = ctx.exclude;
    let i = this.next;
    for (let tried = 0; tried < n; tried++) {
      const backend = backends[i]!;
      i = i + 1 === n ? 0 : i + 1;
      if (exclude === undefined || !exclude.has(backend)) {
        this.next = i;
        return backend;
      }
    }
    return undefined;
  }
}
