import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LeastConnectionsBalancer } from '../../../src/balancing/least-connections.ts';
import { assertShares, countPicks, makeBackends, weightsOf } from './fixtures.ts';

describe('least-connections', () => {
  test('picks the backend with the fewest requests in flight', () => {
    const backends = makeBackends([1, 1, 1]);
    const balancer = new LeastConnectionsBalancer();
    balancer.update(backends);
    backends[0]!.inFlight = 4;
    backends[1]!.inFlight = 1;
    backends[2]!.inFlight = 3;
    for (let i = 0; i < 10; i++) assert.equal(balancer.pick({}), backends[1]);
  });

  test('load is counted per unit of weight: 3 in flight on weight 4 is less than 1 on weight 1', () => {
    const backends = makeBackends([4, 1]);
    const balancer = new LeastConnectionsBalancer();
    balancer.update(backends);
    backends[0]!.inFlight = 3;
    backends[1]!.inFlight = 1;
    assert.equal(balancer.pick({}), backends[0]);
    backends[0]!.inFlight = 5;
    assert.equal(balancer.pick({}), backends[1]);
  });

  test('idle backends take turns in proportion to their weights instead of the first taking everything', () => {
    const backends = makeBackends([3, 1, 1]);
    const balancer = new LeastConnectionsBalancer();
    balancer.update(backends);
    const first = Array.from({ length: 5 }, () => balancer.pick({}));
    assert.equal(new Set(first).size, 3);
    assertShares(countPicks(balancer, 100_000), weightsOf(backends), 0.01);
  });

  test('under concurrent load each backend holds in flight in proportion to its weight', () => {
    const backends = makeBackends([3, 1]);
    const balancer = new LeastConnectionsBalancer();
    balancer.update(backends);
    for (let i = 0; i < 400; i++) balancer.pick({})!.inFlight++;
    assert.equal(backends[0]!.inFlight, 300);
    assert.equal(backends[1]!.inFlight, 100);
  });

  test('a retry goes to the least loaded backend not yet tried', () => {
    const backends = makeBackends([1, 1, 1]);
    const balancer = new LeastConnectionsBalancer();
    balancer.update(backends);
    backends[0]!.inFlight = 0;
    backends[1]!.inFlight = 5;
    backends[2]!.inFlight = 2;
    assert.equal(balancer.pick({ exclude: new Set([backends[0]!]) }), backends[2]);
  });

  test('returns undefined when every backend was tried, or there is none', () => {
    const backends = makeBackends([1, 1]);
    const balancer = new LeastConnectionsBalancer();
    assert.equal(balancer.pick({}), undefined);
    balancer.update(backends);
    assert.equal(balancer.pick({ exclude: new Set(backends) }), undefined);
  });
});
