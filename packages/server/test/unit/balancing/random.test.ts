import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomBalancer } from '../../../src/balancing/random.ts';
import { assertShares, countPicks, makeBackends, testDeps, weightsOf } from './fixtures.ts';

describe('random', () => {
  test('each backend gets its weight\'s share of 100k picks, within 3%', () => {
    const backends = makeBackends([5, 3, 1, 1]);
    const balancer = new RandomBalancer(testDeps());
    balancer.update(backends);
    assertShares(countPicks(balancer, 100_000), weightsOf(backends), 0.03);
  });

  test('weights are taken at update: slow start\'s warmth counts once the backends are updated', () => {
    const backends = makeBackends([1, 1]);
    const balancer = new RandomBalancer(testDeps());
    backends[1]!.warmth = 0.25;
    balancer.update(backends);
    assertShares(countPicks(balancer, 100_000), new Map([[backends[0]!, 1], [backends[1]!, 0.25]]), 0.03);
  });

  test('a retry draws among the backends not tried, in proportion to their weights', () => {
    const backends = makeBackends([5, 3, 1]);
    const balancer = new RandomBalancer(testDeps());
    balancer.update(backends);
    const exclude = new Set([backends[0]!]);
    const counts = countPicks(balancer, 100_000, () => ({ exclude }));
    assert.equal(counts.get(backends[0]), undefined);
    assertShares(counts, new Map([[backends[1]!, 3], [backends[2]!, 1]]), 0.03);
  });

  test('picks are not a fixed cycle: successive picks repeat a backend about as often as chance says', () => {
    const backends = makeBackends([1, 1]);
    const balancer = new RandomBalancer(testDeps());
    balancer.update(backends);
    let repeats = 0;
    let previous = balancer.pick({});
    for (let i = 0; i < 10_000; i++) {
      const backend = balancer.pick({});
      if (backend === previous) repeats++;
      previous = backend;
    }
    assert.ok(Math.abs(repeats / 10_000 - 0.5) < 0.03, `repeat rate ${repeats / 10_000}`);
  });

  test('returns undefined when every backend was tried, or there is none', () => {
    const backends = makeBackends([1, 2]);
    const balancer = new RandomBalancer(testDeps());
    assert.equal(balancer.pick({}), undefined);
    balancer.update(backends);
    assert.equal(balancer.pick({ exclude: new Set(backends) }), undefined);
  });
});
