/**
 * Weighted least connections: the backend with the fewest requests in flight per unit of weight. Ties (for
 * instance every backend idle, the usual case at low load) are broken by smooth weighted round robin among
 * the tied backends, as nginx's least_conn does, so that idle backends take turns in proportion to their weight
 * instead of the first one taking everything.
 */
import type { Backend } from '../upstream/backend.ts';
import type { Balancer, BalancerContext } from './balancer.ts';
import { SmoothRotation } from './smooth-rotation.ts';

export class LeastConnectionsBalancer implements Balancer {
  /** Smooth weighted round robin among the tied backends. */
  private readonly rotation = new SmoothRotation();

  update(eligible: readonly Backend[]): void {
    this.rotation.update(eligible);
  }

  pick(ctx: BalancerContext): Backend | undefined {
    const backends = this.rotation.members;
    const exclude = ctx.exclude;
    // First pass: the lowest load. `inFlight / weight` is compared by cross-multiplying, which is exact for
    // integer weights and never divides by a weight.
    let least = -1;
    let ties = 0;
    for (let i = 0; i < backends.length; i++) {
      const backend = backends[i]!;
      if (exclude !== undefined && exclude.has(backend)) continue;
      if (least === -1) {
        least = i;
        ties = 1;
        continue;
      }
      const best = backends[least]!;
      const lhs = backend.inFlight * best.effectiveWeight;
      const rhs = best.inFlight * backend.effectiveWeight;
      if (lhs < rhs) {
        least = i;
        ties = 1;
      } else if (lhs === rhs) {
        ties++;
      }
    }
    if (ties <= 1) return least === -1 ? undefined : backends[least];
    // Second pass: smooth weighted round robin over the backends as loaded as the least loaded one.
    return this.rotation.pick(exclude, backends[least]!);
  }
}
