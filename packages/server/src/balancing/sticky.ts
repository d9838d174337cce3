/**
 * Sticky sessions: the cookie names the backend that served the client before, by a token, and the client goes
 * back there while that backend is eligible. New clients, and clients whose backend left, go round robin; the
 * pipeline then sets the cookie to `stickyToken` of the backend chosen.
 */
import type { Backend } from '../upstream/backend.ts';
import type { Balancer, BalancerContext, BalancerDeps } from './balancer.ts';
import { hash32 } from './hash.ts';
import { RoundRobinBalancer } from './round-robin.ts';

/**
 * The cookie value for a backend: 16 hex digits (64 bits from two seeded hashes of the id, so that tokens of a
 * pool do not collide). Stable across workers and restarts. The address is not written in clear, but the
 * token is no secret: an id can be guessed and hashed.
 */
export function stickyToken(backend: Backend): string {
  return hex8(hash32(backend.id, 0x5bd1e995)) + hex8(hash32(backend.id, 0x1b873593));
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

export class StickyBalancer implements Balancer {
  private readonly fallback: RoundRobinBalancer;
  private byToken = new Map<string, Backend>();

  constructor(deps: BalancerDeps) {
    this.fallback = new RoundRobinBalancer(deps);
  }

  update(eligible: readonly Backend[]): void {
    this.fallback.update(eligible);
    this.byToken = new Map(eligible.map((backend) => [stickyToken(backend), backend]));
  }

  pick(ctx: BalancerContext): Backend | undefined {
    const token = ctx.stickyValue;
    if (token !== undefined) {
      const backend = this.byToken.get(token);
      // A retry leaves the pinned backend: the response then re-pins the client to the one that answered.
      if (backend !== undefined && (ctx.exclude === undefined || !ctx.exclude.has(backend))) return backend;
    }
    return this.fallback.pick(ctx);
  }
}
