import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WeightedRoundRobinBalancer } from '../../../src/balancing/weighted-round-robin.ts';
import { assertShares, countPicks, makeBackends, weightsOf } from './fixtures.ts';

describe('weighted-round-robin', () => {
  test('weights {5, 1, 1} give nginx\'s smooth sequence a a b a c a a, round after round', () => {
    const backends = makeBackends([5, 1, 1]);
    const balancer = new WeightedRoundRobinBalancer();
    balancer.update(backends);
    const name = new Map(backends.map((backend, i) => [backend, 'abc'[i]]));
    const sequence = Array.from({ length: 21 }, () => name.get(balancer.pick({})!)).join('');
    assert.equal(sequence, 'aabacaa'.repeat(3));
  });

  test('each backend gets its weight\'s share of 100k picks', () => {
    const backends = makeBackends([7, 3, 2, 1]);
    const balancer = new WeightedRoundRobinBalancer();
    balancer.update(backends);
    assertShares(countPicks(balancer, 100_000), weightsOf(backends), 0.01);
  });

  test('slow start\'s fractional warmth scales a backend\'s share, read at each pick', () => {
    const backends = makeBackends([1, 1]);
    const balancer = new WeightedRoundRobinBalancer();
    balancer.update(backends);
    backends[1]!.warmth = 0.25;
    assertShares(countPicks(balancer, 100_000), new Map([[backends[0]!, 1], [backends[1]!, 0.25]]), 0.01);
  });

  test('a retry goes to the backends not tried, still in proportion to their weights', () => {
    const backends = makeBackends([1, 3, 1]);
    const balancer = new WeightedRoundRobinBalancer();
    balancer.update(backends);
    const exclude = new Set([backends[0]!]);
    const counts = countPicks(balancer, 40_000, () => ({ exclude }));
    assert.equal(counts.get(backends[0]), undefined);
    assertShares(counts, new Map([[backends[1]!, 3], [backends[2]!, 1]]), 0.01);
  });

  test('returns undefined when every backend was tried, or there is none', () => {
    const backends = makeBackends([2, 1]);
    const balancer = new WeightedRoundRobinBalancer();
    assert.equal(balancer.pick({}), undefined);
    balancer.update(backends);
    assert.equal(balancer.pick({ exclude: new Set(backends) }), undefined);
  });

  test('after an update, a removed backend is never picked and the others keep their weights', () => {
    const backends = makeBackends([3, 2, 1]);
    const balancer = new WeightedRoundRobinBalancer();
    balancer.update(backends);
    countPicks(balancer, 5);
    balancer.update([backends[0]!, backends[2]!]);
    const counts = countPicks(balancer, 40_000);
    assert.equal(counts.get(backends[1]), undefined);
    assertShares(counts, new Map([[backends[0]!, 3], [backends[2]!, 1]]), 0.01);
  });
});
