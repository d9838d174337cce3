import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HashRing } from '../../../../src/cache/stores/hash-ring.ts';

const servers = (n: number) => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}:11211`);
const KEYS = Array.from({ length: 20_000 }, (_, i) => `fulcrum:GET:example.com/item/${i}`);

function owners(ring: HashRing): string[] {
  return KEYS.map((k) => ring.ids[ring.pick(k)]!);
}

describe('hash ring', () => {
  test('keys spread over every server, each within 20% of an equal share', () => {
    const counts = new Map<string, number>();
    for (const o of owners(new HashRing(servers(4)))) counts.set(o, (counts.get(o) ?? 0) + 1);
    assert.equal(counts.size, 4);
    for (const [server, n] of counts) assert.ok(Math.abs(n / (KEYS.length / 4) - 1) < 0.2, `${server}: ${n}`);
  });

  test('removing a server moves its keys only, spread over the others', () => {
    const before = owners(new HashRing(servers(4)));
    const after = owners(new HashRing(servers(4).filter((s) => s !== '10.0.0.3:11211')));
    const landed = new Set<string>();
    before.forEach((b, i) => {
      if (b === '10.0.0.3:11211') landed.add(after[i]!);
      else assert.equal(after[i], b, KEYS[i]!);
    });
    assert.equal(landed.size, 3);
  });

  test('adding a server moves about 1/N of the keys, all onto the new server', () => {
    const before = owners(new HashRing(servers(4)));
    const after = owners(new HashRing(servers(5)));
    let moved = 0;
    before.forEach((b, i) => {
      if (after[i] === b) return;
      moved++;
      assert.equal(after[i], '10.0.0.5:11211');
    });
    assert.ok(Math.abs(moved / KEYS.length - 1 / 5) < 0.05, `moved ${moved}`);
  });

  test('the choice depends on the set of servers, not on their order', () => {
    assert.deepEqual(owners(new HashRing(servers(4))), owners(new HashRing(servers(4).reverse())));
  });

  test('one server takes every key; none gives -1', () => {
    assert.ok(KEYS.slice(0, 100).every((k) => new HashRing(['only:1']).pick(k) === 0));
    assert.equal(new HashRing([]).pick('k'), -1);
  });
});
