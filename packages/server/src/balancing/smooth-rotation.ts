/**
 * Smooth weighted round robin, exactly as nginx does it (ngx_http_upstream_get_peer): on each pick every
 * candidate's `current` grows by its weight, the largest wins and gives back the total. Weights {5, 1, 1} give
 * a a b a c a a: the heavy backend's turns are spread out instead of coming in a burst of five. Shared by
 * weighted-round-robin (over all backends) and least-connections (over the least loaded, to break ties).
 */
import type { Backend } from '../upstream/backend.ts';

export class SmoothRotation {
  private backends: readonly Backend[] = [];
  /** nginx's `current_weight`, by position in `backends`. */
  private current = new Float64Array(0);

  get members(): readonly Backend[] {
    return this.backends;
  }

  update(eligible: readonly Backend[]): void {
    // Backends that stay keep their place in the rotation; new ones start at 0 as in nginx.
    const previous = new Map<Backend, number>();
    this.backends.forEach((backend, i) => previous.set(backend, this.current[i]!));
    this.backends = eligible.slice();
    this.current = new Float64Array(eligible.length);
    eligible.forEach((backend, i) => (this.current[i] = previous.get(backend) ?? 0));
  }

  /**
   * The next turn among the backends not excluded (as nginx skips peers already tried: they neither gain nor lose
   * their turn) and, when `sameLoadAs` is given, only those exactly as loaded per unit of weight as it.
   */
  pick(exclude: ReadonlySet<Backend> | undefined, sameLoadAs?: Backend): Backend | undefined {
    const backends = this.backends;
    const current = this.current;
    let best = -1;
    let total = 0;
    for (let i = 0; i < backends.length; i++) {
      const backend = backends[i]!;
      if (exclude !== undefined && exclude.has(backend)) continue;
      if (sameLoadAs !== undefined && backend.inFlight * sameLoadAs.effectiveWeight !== sameLoadAs.inFlight * backend.effectiveWeight) continue;
      // Read live: slow start changes warmth, and the weight is a plain multiplication.
      const weight = backend.effectiveWeight;
      current[i]! += weight;
      total += weight;
      if (best === -1 || current[i]! > current[best]!) best = i;
    }
    if (best === -1) return undefined;
    current[best]! -= total;
    return backends[best];
  }
}
