import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RoundRobinBalancer } from '../../../src/balancing/round-robin.ts';
import { makeBackends, testDeps } from './fixtures.ts';

describe('round-robin', () => {
  test('each backend is picked once per round, in order, whatever its weight', () => {
    const backends = makeBackends([5, 1, 1]);
    const balancer = new RoundRobinBalancer(testDeps());
    balancer.update(backends);
    const first = backends.indexOf(balancer.pick({})!);
    for (let i = 1; i < 30; i++) assert.equal(balancer.pick({}), backends[(first + i) % 3]);
  });

  test('a retry skips the backends already tried and the rotation goes on after the one picked', () => {
    const [a, b, c] = makeBackends([1, 1, 1]);
    const balancer = new RoundRobinBalancer(testDeps());
    balancer.update([a!, b!, c!]);
    while (balancer.pick({}) !== c);
    assert.equal(balancer.pick({ exclude: new Set([a!]) }), b);
    assert.equal(balancer.pick({}), c);
  });

  test('returns undefined when every backend was tried, or there is none', () => {
    const backends = makeBackends([1, 1]);
    const balancer = new RoundRobinBalancer(testDeps());
    assert.equal(balancer.pick({}), undefined);
    balancer.update(backends);
    assert.equal(balancer.pick({ exclude: new Set(backends) }), undefined);
  });

  test('after a backend leaves, the others keep alternating', () => {
    const [a, b, c] = makeBackends([1, 1, 1]);
    const balancer = new RoundRobinBalancer(testDeps());
    balancer.update([a!, b!, c!]);
    balancer.pick({});
    balancer.update([a!, c!]);
    const picks = Array.from({ length: 6 }, () => balancer.pick({}));
    for (let i = 1; i < picks.length; i++) assert.notEqual(picks[i], picks[i - 1]);
    assert.ok(!picks.includes(b));
  });

  test('workers seeded differently start on different backends', () => {
    const backends = makeBackends(Array(10).fill(1));
    const starts = new Set<unknown>();
    for (let seed = 1; seed <= 10; seed++) {
      const balancer = new RoundRobinBalancer(testDeps(seed));
      balancer.update(backends);
      starts.add(balancer.pick({}));
    }
    assert.ok(starts.size > 3, `only ${starts.size} distinct starting backends`);
  });
});
