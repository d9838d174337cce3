/** Weighted round robin, smooth as nginx's (see smooth-rotation.ts), over every eligible backend. */
import type { Backend } from '../upstream/backend.ts';
import type { Balancer, BalancerContext } from './balancer.ts';
import { SmoothRotation } from './smooth-rotation.ts';

export class WeightedRoundRobinBalancer implements Balancer {
  private readonly rotation = new SmoothRotation();

  update(eligible: readonly Backend[]): void {
    this.rotation.update(eligible);
  }

  pick(ctx: BalancerContext): Backend | undefined {
    return this.rotation.pick(ctx.exclude);
  }
}
