/** Shared pieces of the balancer tests: backends on fake addresses, deterministic deps, pick counters. */
import { Backend } from '../../../src/upstream/backend.ts';
import type { Balancer, BalancerContext } from '../../../src/balancing/balancer.ts';
import { seededRandom, type Random } from '../../../src/time.ts';
import { ManualClock } from '../../support/fake-time.ts';

/** One backend per weight, on ports 8001, 8002, ... */
export function makeBackends(weights: readonly number[]): Backend[] {
  return weights.map((weight, i) => new Backend({ url: `http://127.0.0.1:${8001 + i}`, weight, maxConnections: 1024 }));
}

export function testDeps(seed = 42): { clock: ManualClock; random: Random } {
  return { clock: new ManualClock(), random: seededRandom(seed) };
}

/** How often each backend is picked over `times` picks; `ctx` may vary with the pick's number. */
export function countPicks(
  balancer: Balancer,
  times: number,
  ctx: (i: number) => BalancerContext = () => ({}),
): Map<Backend | undefined, number> {
  const counts = new Map<Backend | undefined, number>();
  for (let i = 0; i < times; i++) {
    const backend = balancer.pick(ctx(i));
    counts.set(backend, (counts.get(backend) ?? 0) + 1);
  }
  return counts;
}

/** Asserts that each backend's share of `total` picks is its weight's share, within `tolerance` (relative). */
export function assertShares(
  counts: ReadonlyMap<Backend | undefined, number>,
  expected: ReadonlyMap<Backend, number>,
  tolerance: number,
): void {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const weightSum = [...expected.values()].reduce((a, b) => a + b, 0);
  for (const [backend, weight] of expected) {
    const share = (counts.get(backend) ?? 0) / total;
    const want = weight / weightSum;
    if (Math.abs(share / want - 1) > tolerance) {
      throw new Error(`${backend.id}: share ${share.toFixed(4)}, expected ${want.toFixed(4)} ± ${tolerance * 100}%`);
    }
  }
}

export function weightsOf(backends: readonly Backend[]): Map<Backend, number> {
  return new Map(backends.map((backend) => [backend, backend.effectiveWeight]));
}
