/**
 * The balancers by their config name (`pools.<name>.algorithm`). Adding an algorithm: one file beside this one
 * and one line below; the type of `FACTORIES` makes a missing name a compile error.
 */
import type { AlgorithmName, PoolConfig } from '../config/schema.ts';
import type { Balancer, BalancerDeps } from './balancer.ts';
import { ConsistentHashBalancer } from './consistent-hash.ts';
import { compileHashKey } from './request-key.ts';
import { LeastConnectionsBalancer } from './least-connections.ts';
import { LeastLoadBalancer } from './least-load.ts';
import { P2cEwmaBalancer } from './p2c-ewma.ts';
import { RandomBalancer } from './random.ts';
import { RoundRobinBalancer } from './round-robin.ts';
import { StickyBalancer } from './sticky.ts';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.ts';

/** The part of a pool's config the balancers read. */
export type BalancerConfig = Pick<PoolConfig, 'algorithm' | 'hash' | 'sticky' | 'backends'>;

type Factory = (pool: BalancerConfig, deps: BalancerDeps) => Balancer;

const FACTORIES: { readonly [name in AlgorithmName]: Factory } = {
  'round-robin': (_pool, deps) => new RoundRobinBalancer(deps),
  'weighted-round-robin': () => new WeightedRoundRobinBalancer(),
  'least-connections': () => new LeastConnectionsBalancer(),
  random: (_pool, deps) => new RandomBalancer(deps),
  'p2c-ewma': (_pool, deps) => new P2cEwmaBalancer(deps),
  'consistent-hash': (pool, deps) =>
    new ConsistentHashBalancer(deps, {
      boundedLoad: pool.hash.bounded_load,
      keyOf: compileHashKey(pool.hash.key),
      // The id as `Backend.id` derives it: the origin.
      backends: pool.backends.map((backend) => ({ id: new URL(backend.url).origin, weight: backend.weight })),
    }),
  sticky: (pool, deps) => new StickyBalancer(deps, { cookie: pool.sticky.cookie, ttlMs: pool.sticky.ttl }),
  'least-load': (_pool, deps) => new LeastLoadBalancer(deps),
};

/** A new balancer for a pool, empty until its first `update`. */
export function createBalancer(pool: BalancerConfig, deps: BalancerDeps): Balancer {
  return FACTORIES[pool.algorithm](pool, deps);
}
