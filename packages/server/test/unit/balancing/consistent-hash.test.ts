import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsistentHashBalancer } from '../../../src/balancing/consistent-hash.ts';
import type { Backend } from '../../../src/upstream/backend.ts';
import { seededRandom } from '../../../src/time.ts';
import { assertShares, makeBackends, testDeps, weightsOf } from './fixtures.ts';

const KEYS = Array.from({ length: 10_000 }, (_, i) => `198.51.${i >> 8}.${i & 255}`);

/** A balancer whose table covers `configured` (the pool's config), told that `eligible` may take traffic. */
function balancerFor(configured: readonly Backend[], eligible = configured, boundedLoad = 1.25): ConsistentHashBalancer {
  const balancer = new ConsistentHashBalancer(testDeps(), {
    boundedLoad,
    backends: configured.map((backend) => ({ id: backend.id, weight: backend.weight })),
  });
  balancer.update(eligible);
  return balancer;
}

function owners(balancer: ConsistentHashBalancer, keys = KEYS): (Backend | undefined)[] {
  return keys.map((hashKey) => balancer.pick({ key: hashKey }));
}

describe('consistent-hash', () => {
  test('the same key always goes to the same backend, in every worker whatever the order of its list', () => {
    const backends = makeBackends([1, 1, 1, 1, 1]);
    const first = owners(balancerFor(backends));
    assert.deepEqual(owners(balancerFor(backends)), first);
    assert.deepEqual(owners(balancerFor(backends.slice().reverse())), first);
    assert.equal(new Set(first).size, 5);
  });

  test('when one of 10 backends leaves, only its keys move (about 1/10), spread over all the others', () => {
    const backends = makeBackends(Array(10).fill(1));
    const balancer = balancerFor(backends);
    const before = owners(balancer);
    const gone = backends[3]!;
    balancer.update(backends.filter((backend) => backend !== gone));
    const after = owners(balancer);
    const movedTo = new Map<Backend | undefined, number>();
    let moved = 0;
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] === after[i]) continue;
      assert.equal(before[i], gone, `${KEYS[i]} moved from a surviving backend`);
      moved++;
      movedTo.set(after[i], (movedTo.get(after[i]) ?? 0) + 1);
    }
    assert.ok(Math.abs(moved / KEYS.length - 0.1) < 0.015, `moved ${moved / KEYS.length}`);
    assert.equal(movedTo.size, 9);
    for (const count of movedTo.values()) {
      assert.ok(Math.abs(count / (moved / 9) - 1) < 0.25, `uneven spread: ${[...movedTo.values()]}`);
    }
  });

  test('when a backend that left comes back, every key returns to where it was', () => {
    const backends = makeBackends(Array(10).fill(1));
    const balancer = balancerFor(backends);
    const before = owners(balancer);
    balancer.update(backends.slice(1));
    balancer.update(backends);
    assert.deepEqual(owners(balancer), before);
  });

  test('adding an 11th backend to the config moves about 1/11 of the keys, nearly all of them to it', () => {
    const backends = makeBackends(Array(11).fill(1));
    const before = owners(balancerFor(backends.slice(0, 10)));
    const after = owners(balancerFor(backends));
    let moved = 0;
    let toNew = 0;
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      if (after[i] === backends[10]) toNew++;
    }
    assert.ok(Math.abs(moved / KEYS.length - 1 / 11) < 0.015, `moved ${moved / KEYS.length}`);
    assert.ok(toNew / moved > 0.9, `only ${toNew} of ${moved} moved keys went to the new backend`);
  });

  test('a backend missing from the config but named by an update joins the table, taking about 1/(n+1) of the keys', () => {
    const backends = makeBackends(Array(11).fill(1));
    const balancer = balancerFor(backends.slice(0, 10));
    const before = owners(balancer);
    balancer.update(backends);
    const after = owners(balancer);
    const moved = after.filter((backend, i) => backend !== before[i]).length;
    assert.ok(Math.abs(moved / KEYS.length - 1 / 11) < 0.015, `moved ${moved / KEYS.length}`);
    assert.ok(after.filter((backend) => backend === backends[10]).length > 0.08 * KEYS.length);
  });

  test('the table gives each backend its weight\'s share of 100k keys, within 3%', () => {
    const backends = makeBackends([1, 2, 3, 4]);
    const balancer = balancerFor(backends);
    const counts = new Map<Backend | undefined, number>();
    for (let i = 0; i < 100_000; i++) {
      const backend = balancer.pick({ key: `user-${i}` });
      counts.set(backend, (counts.get(backend) ?? 0) + 1);
    }
    assertShares(counts, weightsOf(backends), 0.03);
  });

  test('a warming backend takes a share of its keys that grows with warmth, taking back the same keys', () => {
    const backends = makeBackends(Array(10).fill(1));
    const warming = backends[0]!;
    const balancer = balancerFor(backends);
    const keysAt = (warmth: number) => {
      warming.warmth = warmth;
      balancer.update(backends);
      return new Set(KEYS.filter((hashKey) => balancer.pick({ key: hashKey }) === warming));
    };
    const full = keysAt(1);
    const third = keysAt(0.3);
    const twoThirds = keysAt(0.6);
    assert.ok(Math.abs(third.size / full.size - 0.3) < 0.05, `${third.size} of ${full.size}`);
    assert.ok(Math.abs(twoThirds.size / full.size - 0.6) < 0.05, `${twoThirds.size} of ${full.size}`);
    for (const key of third) assert.ok(twoThirds.has(key) && full.has(key), `${key} was not kept as warmth rose`);
  });

  test('with skewed keys and requests in flight, no backend goes above ceil(c × (total + 1) / n)', () => {
    const backends = makeBackends([1, 1, 1, 1, 1]);
    const c = 1.25;
    const balancer = balancerFor(backends, backends, c);
    const random = seededRandom(3);
    const running: Backend[] = [];
    const hotOwner = balancer.pick({ key: 'hot' })!;
    const hotPicks = new Set<Backend>();
    for (let step = 0; step < 50_000; step++) {
      // Half the requests carry one hot key, the rest a key among 100 (a Zipf-like head).
      const hashKey = random.next() < 0.5 ? 'hot' : `key-${Math.floor(random.next() ** 3 * 100)}`;
      const total = running.length;
      const capacity = Math.ceil((c * (total + 1)) / backends.length);
      const backend = balancer.pick({ key: hashKey })!;
      assert.ok(backend.inFlight + 1 <= capacity, `${backend.id}: ${backend.inFlight + 1} in flight > ${capacity}`);
      if (hashKey === 'hot') hotPicks.add(backend);
      backend.inFlight++;
      running.push(backend);
      // Requests finish in random order; in flight hovers around 40.
      while (running.length > 40 || (running.length > 0 && random.next() < 0.5)) {
        const j = Math.floor(random.next() * running.length);
        running[j]!.inFlight--;
        running[j] = running[running.length - 1]!;
        running.pop();
      }
    }
    assert.ok(hotPicks.has(hotOwner) && hotPicks.size > 1, 'the hot key never overflowed: the bound was not tested');
  });

  test('with weights, the bound scales with each backend\'s weight share', () => {
    const backends = makeBackends([3, 1, 1, 1]);
    const c = 1.25;
    const balancer = balancerFor(backends, backends, c);
    const heavyKeys = KEYS.filter((hashKey) => balancer.pick({ key: hashKey }) === backends[0]);
    for (let i = 0; i < 60; i++) balancer.pick({ key: heavyKeys[i % heavyKeys.length]! })!.inFlight++;
    // 60 in flight, shares 2, 2/3, 2/3, 2/3 of the mean: the heavy backend may hold ceil(1.25 × 60 / 4 × 2) = 38.
    assert.equal(backends[0]!.inFlight, 38);
    for (const backend of backends.slice(1)) assert.ok(backend.inFlight <= Math.ceil(((c * 60) / 4) * (2 / 3)));
  });

  test('when its owner is full, a key overflows to the same backend every time', () => {
    const backends = makeBackends(Array(8).fill(1));
    const balancer = balancerFor(backends);
    const owner = balancer.pick({ key: 'hot' })!;
    owner.inFlight = 10;
    const second = balancer.pick({ key: 'hot' });
    assert.notEqual(second, owner);
    for (let i = 0; i < 20; i++) assert.equal(balancer.pick({ key: 'hot' }), second);
  });

  test('a retry goes to another backend, and none is left when all were tried', () => {
    const backends = makeBackends([1, 1, 1]);
    const balancer = balancerFor(backends);
    const owner = balancer.pick({ key: 'k' })!;
    const retry = balancer.pick({ key: 'k', exclude: new Set([owner]) });
    assert.ok(retry !== undefined && retry !== owner);
    assert.equal(balancer.pick({ key: 'k', exclude: new Set(backends) }), undefined);
  });

  test('a request without a key (or with an empty one) goes round robin', () => {
    const backends = makeBackends([1, 1, 1]);
    const balancer = balancerFor(backends);
    const picks = [undefined, '', undefined, '', undefined, ''].map((hashKey) => balancer.pick({ key: hashKey }));
    assert.equal(new Set(picks.slice(0, 3)).size, 3);
    assert.deepEqual(picks.slice(3), picks.slice(0, 3));
  });

  test('with no eligible backend, or none configured, there is nothing to pick', () => {
    const backends = makeBackends([1, 1]);
    assert.equal(balancerFor(backends, []).pick({ key: 'k' }), undefined);
    const unconfigured = new ConsistentHashBalancer(testDeps(), { boundedLoad: 1.25 });
    assert.equal(unconfigured.pick({ key: 'k' }), undefined);
    unconfigured.update(backends);
    assert.ok(backends.includes(unconfigured.pick({ key: 'k' })!));
  });
});
