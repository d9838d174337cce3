/**
 * Weighted least connections: the backend with the fewest requests in flight per unit of weight. Ties (for
 * instance every backend idle, the usual case at low load) are broken by smooth weighted round robin among
 * the tied backends, as nginx's least_conn does, so that idle backends take turns in proportion to their weight
 * instead of the first one taking everything.
 */
import type { Backend } from '../upstream/backend.ts';
import type { Balancer, BalancerContext } from './balancer.ts';

export class LeastConnectionsBalancer implements Balancer {
  private backends: readonly Backend[] = [];
  /** Smooth weighted round robin state for tie-breaking, by position in `backends`. */
  private current = new Float64Array(0);

  update(eligible: readonly Backend[]): void {
    const previous = new Map<Backend, number>();
    this.backends.forEach((backend, i) => previous.set(backend, this.current[i]!));
    this.backends = eligible.slice();
    this.current = new Float64Array(eligible.length);
    eligible.forEach((backend, i) => (this.current[i] = previous.get(backend) ?? 0));
  }

  pick(ctx: BalancerContext): Backend | undefined {
    const backends = this.backends;
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
    return this.pickAmongTies(backends[least]!, exclude);
  }

  /** Second pass: smooth weighted round robin over the backends as loaded as `reference`. */
  private pickAmongTies(reference: Backend, exclude: ReadonlySet<Backend> | undefined): Backend {
    const backends = this.backends;
    const current = this.current;
    let best = -1;
    let total = 0;
    for (let i = 0; i < backends.length; i++) {
      const backend = backends[i]!;
      if (exclude !== undefined && exclude.has(backend)) continue;
      if (backend.inFlight * reference.effectiveWeight !== reference.inFlight * backend.effectiveWeight) continue;
      const weight = backend.effectiveWeight;
      current[i]! += weight;
      total += weight;
      if (best === -1 || current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    return backends[best]!;
  }
}
