/**
 * Sticky sessions: the cookie names the backend that served the client before, by a token, and the client goes
 * back there while that backend is eligible. New clients, and clients whose backend left, go round robin; the
 * response then sets the cookie to `stickyToken` of the backend chosen (`responseFields`).
 */
import type { Backend } from '../upstream/backend.ts';
import type { Balancer, BalancerContext, BalancerDeps, RequestView } from './balancer.ts';
import { hash32 } from './hash.ts';
import { cookieValue } from './request-key.ts';
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

export interface StickyOptions {
  /** The cookie's name (`pools.<name>.sticky.cookie`). */
  readonly cookie: string;
  /** Its lifetime in ms; 0 for a session cookie. */
  readonly ttlMs: number;
}

export class StickyBalancer implements Balancer {
  private readonly fallback: RoundRobinBalancer;
  private readonly cookie: string;
  /** What follows the token in Set-Cookie, the same for every response. */
  private readonly attributes: string;
  private byToken = new Map<string, Backend>();

  constructor(deps: BalancerDeps, options: StickyOptions = { cookie: 'fulcrum_backend', ttlMs: 0 }) {
    this.fallback = new RoundRobinBalancer(deps);
    this.cookie = options.cookie;
    const maxAge = options.ttlMs > 0 ? `; Max-Age=${Math.round(options.ttlMs / 1000)}` : '';
    this.attributes = `; Path=/; HttpOnly; SameSite=Lax${maxAge}`;
  }

  keyOf(req: RequestView): string | undefined {
    return cookieValue(req.header('cookie'), this.cookie);
  }

  /** Pins the client to the backend that answered, unless its cookie already does. */
  responseFields(backend: Backend, key: string | undefined): readonly string[] | undefined {
    const token = stickyToken(backend);
    return token === key ? undefined : ['set-cookie', `${this.cookie}=${token}${this.attributes}`];
  }

  update(eligible: readonly Backend[]): void {
    this.fallback.update(eligible);
    this.byToken = new Map(eligible.map((backend) => [stickyToken(backend), backend]));
  }

  pick(ctx: BalancerContext): Backend | undefined {
    const token = ctx.key;
    if (token !== undefined) {
      const backend = this.byToken.get(token);
      // A retry leaves the pinned backend: the response then re-pins the client to the one that answered.
      if (backend !== undefined && (ctx.exclude === undefined || !ctx.exclude.has(backend))) return backend;
    }
    return this.fallback.pick(ctx);
  }
}
