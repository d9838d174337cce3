import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createBalancer } from '../../../src/balancing/registry.ts';
import { PoolConfigSchema } from '../../../src/config/schema.ts';
import { makeBackends, testDeps } from './fixtures.ts';

describe('balancer registry', () => {
  test('a pool without an algorithm gets round robin, which ignores weights', () => {
    const backends = makeBackends([5, 1]);
    const balancer = createBalancer(PoolConfigSchema.parse({}), testDeps());
    balancer.update(backends);
    const first = balancer.pick({});
    assert.notEqual(balancer.pick({}), first);
    assert.equal(balancer.pick({}), first);
  });

  test('consistent-hash takes its bound from the pool\'s hash.bounded_load', () => {
    const [a, b] = makeBackends([1, 1]);
    const pick = (boundedLoad: number) => {
      const pool = PoolConfigSchema.parse({ algorithm: 'consistent-hash', hash: { bounded_load: boundedLoad } });
      const balancer = createBalancer(pool, testDeps());
      balancer.update([a!, b!]);
      a!.inFlight = b!.inFlight = 0;
      const owner = balancer.pick({ key: 'k' })!;
      // One request in flight on the owner: its capacity is ceil(c × 2 / 2), so 1 when c = 1 and 2 when c = 2.
      owner.inFlight = 1;
      return { owner, next: balancer.pick({ key: 'k' }) };
    };
    const strict = pick(1);
    assert.notEqual(strict.next, strict.owner);
    const loose = pick(2);
    assert.equal(loose.next, loose.owner);
  });

  test('consistent-hash covers the configured backends, so one turning ineligible moves only its own keys', () => {
    const backends = makeBackends([1, 1, 1, 1]);
    const pool = PoolConfigSchema.parse({
      algorithm: 'consistent-hash',
      backends: backends.map((backend) => ({ url: backend.url.href })),
    });
    const balancer = createBalancer(pool, testDeps());
    balancer.update(backends);
    const keys = Array.from({ length: 2_000 }, (_, i) => `k${i}`);
    const before = keys.map((hashKey) => balancer.pick({ key: hashKey }));
    balancer.update(backends.slice(1));
    keys.forEach((hashKey, i) => {
      if (before[i] !== backends[0]) assert.equal(balancer.pick({ key: hashKey }), before[i]);
    });
  });
});
