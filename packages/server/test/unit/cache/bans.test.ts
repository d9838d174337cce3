import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BanIndex, type Bannable } from '../../../src/cache/bans.ts';
import { BAN_RETENTION_MS, HttpCache } from '../../../src/cache/http-cache.ts';
import { PrefixTree } from '../../../src/cache/prefix-tree.ts';
import { LocalPurgeBus, type Purge } from '../../../src/cache/purge-bus.ts';
import { MemoryStore } from '../../../src/cache/stores/memory.ts';
import { seededRandom, type Random } from '../../../src/time.ts';
import { ManualWallClock } from '../../support/fake-time.ts';
import { response } from './stores/fixtures.ts';

/** The check as it was before the index: every ban, one by one. */
function bruteForce(bans: readonly Purge[], e: Bannable): boolean {
  return bans.some(
    (b) => e.storedAt <= b.at && (b.kind === 'url' ? e.url === b.value : b.kind === 'prefix' ? e.url.startsWith(b.value) : e.tags.includes(b.value)),
  );
}

/** URLs from a few hosts and short segments, so that prefixes, URLs and tags overlap a lot. */
function generator(random: Random) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random.next() * xs.length)]!;
  const url = () => {
    let u = pick(['a.example/', 'b.example/', 'a.example:8080/']);
    const depth = Math.floor(random.next() * 4);
    for (let i = 0; i < depth; i++) u += `${pick(['x', 'xy', 'xyz', 'y', 'ü', 'a-b', 'z', 'zz'])}${i < depth - 1 ? '/' : pick(['', '?q=1', '?q=12', '/'])}`;
    return u;
  };
  // A prefix may end anywhere after the host, mid-segment included; now and then it is just a host's start.
  const prefix = () => {
    const u = url();
    const from = random.next() < 0.05 ? 1 : u.indexOf('/') + 1;
    return u.slice(0, from + Math.floor(random.next() * (u.length - from + 1)));
  };
  const tag = () => `t-${Math.floor(random.next() * 40)}`;
  const tags = () => Array.from({ length: Math.floor(random.next() * 3) }, tag);
  return { pick, url, prefix, tag, tags };
}

describe('the ban index', () => {
  test('issue 13 #16: agrees with a check of every ban, on many random bans and entries (seeded)', () => {
    let banned = 0;
    let checked = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = seededRandom(seed);
      const gen = generator(random);
      const index = new BanIndex(BAN_RETENTION_MS);
      const bans: Purge[] = [];
      const now = 1_000_000;
      for (let round = 0; round < 40; round++) {
        for (let i = 0; i < 2; i++) {
          const kind = gen.pick(['url', 'prefix', 'tag'] as const);
          // Times out of order, as bans from other instances arrive; repeated names with older and newer times.
          const ban: Purge = { kind, value: kind === 'url' ? gen.url() : kind === 'prefix' ? gen.prefix() : gen.tag(), at: now - Math.floor(random.next() * 1000) };
          bans.push(ban);
          index.add(ban, now);
        }
        for (let i = 0; i < 100; i++) {
          const entry: Bannable = { url: gen.url(), tags: gen.tags(), storedAt: now - Math.floor(random.next() * 1100) };
          const expected = bruteForce(bans, entry);
          assert.equal(index.bans(entry), expected, `seed ${seed}: ${JSON.stringify(entry)}`);
          if (expected) banned++;
          checked++;
        }
      }
    }
    // Both answers are common, so the comparison means something.
    assert.ok(banned > checked * 0.2 && banned < checked * 0.8, `${banned} of ${checked} banned`);
  });

  test('issue 13 #16: bans past the retention are trimmed, and entries that can still be alive get the same answer', () => {
    const random = seededRandom(42);
    const gen = generator(random);
    const retention = 10_000;
    const index = new BanIndex(retention);
    const bans: Purge[] = [];
    let now = 100_000;
    for (let step = 0; step < 3000; step++) {
      now += Math.floor(random.next() * 20);
      const kind = gen.pick(['url', 'prefix', 'tag'] as const);
      const ban: Purge = { kind, value: kind === 'url' ? gen.url() : kind === 'prefix' ? gen.prefix() : gen.tag(), at: now - Math.floor(random.next() * 50) };
      bans.push(ban);
      index.add(ban, now);
      // Only entries stored within the retention can be alive (stores cap their time to live).
      const entry: Bannable = { url: gen.url(), tags: gen.tags(), storedAt: now - Math.floor(random.next() * retention) };
      assert.equal(index.bans(entry), bruteForce(bans, entry), `step ${step}: ${JSON.stringify(entry)}`);
    }
    // The index holds at most the names banned within the retention, not all 3000 bans.
    const live = new Set(bans.filter((b) => b.at > now - retention - 50).map((b) => `${b.kind}:${b.value}`));
    assert.ok(index.size <= live.size, `${index.size} names kept, ${live.size} banned within the retention`);
  });

  test('issue 13 #16: 100k bans apply at once, and a check visits no more prefix nodes than its URL has characters', () => {
    const clock = new ManualWallClock(1_700_000_000_000);
    const cache = new HttpCache(new MemoryStore({ maxBytes: 1 << 20 }), undefined, new LocalPurgeBus(), { coalesceTimeoutMs: 1000, wallClock: clock });
    const random = seededRandom(7);
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) {
      const kind = i % 3 === 0 ? 'url' : i % 3 === 1 ? 'prefix' : 'tag';
      const id = Math.floor(random.next() * 1e9).toString(36);
      cache.ban({ kind, value: kind === 'tag' ? `t-${id}` : `shop.example/p/${id}/${i}`, at: clock.now() });
    }
    // A sanity bound only, far above what it takes (the list it replaces took minutes): timing is the benchmark's job.
    assert.ok(performance.now() - started < 10_000);
    assert.ok(cache.banCount > 99_000);
    const index = new BanIndex(BAN_RETENTION_MS);
    for (let i = 0; i < 100_000; i++) index.add({ kind: 'prefix', value: `shop.example/p/${i}`, at: clock.now() }, clock.now());
    const url = 'shop.example/p/12345/details?colour=red';
    const before = index.prefixNodesVisited;
    assert.equal(index.bans({ url, tags: [], storedAt: clock.now() }), true);
    assert.ok(index.prefixNodesVisited - before <= url.length + 1, `${index.prefixNodesVisited - before} nodes for ${url.length} characters`);
  });

  test('an entry stored after the latest ban is let through without a look at the names', () => {
    const index = new BanIndex(BAN_RETENTION_MS);
    index.add({ kind: 'prefix', value: 'a.example/', at: 1000 }, 1000);
    const before = index.prefixNodesVisited;
    assert.equal(index.bans({ url: 'a.example/x', tags: [], storedAt: 1001 }), false);
    assert.equal(index.prefixNodesVisited, before);
    assert.equal(index.bans({ url: 'a.example/x', tags: [], storedAt: 1000 }), true, 'stored at the moment of the ban: purged');
  });
});

describe('the prefix tree', () => {
  test('the latest time among the prefixes of a string, with edges split and merged as prefixes come and go', () => {
    const tree = new PrefixTree();
    tree.set('ab', 1);
    tree.set('abcd', 2);
    tree.set('abx', 3);
    tree.set('', 0);
    tree.set('abcd', 1); // an older time for a name changes nothing
    assert.equal(tree.latest('abcdef'), 2);
    assert.equal(tree.latest('abc'), 1);
    assert.equal(tree.latest('abxy'), 3);
    assert.equal(tree.latest('zz'), 0);
    tree.forget('abcd', 1); // its time is later than the horizon: kept
    assert.equal(tree.latest('abcd'), 2);
    tree.forget('abcd', 2);
    tree.forget('ab', 5);
    assert.equal(tree.latest('abcdef'), 0);
    assert.equal(tree.latest('abxy'), 3);
    assert.equal(tree.size, 2);
    tree.forget('abx', 5);
    tree.forget('', 5);
    assert.equal(tree.size, 0);
    assert.equal(tree.latest('abxy'), Number.NEGATIVE_INFINITY);
  });

  test('issue 13 #16: agrees with a scan of every prefix while prefixes are added and forgotten at random (seeded)', () => {
    const random = seededRandom(11);
    const gen = generator(random);
    const tree = new PrefixTree();
    const times = new Map<string, number>();
    for (let step = 0; step < 5000; step++) {
      const p = gen.prefix();
      if (random.next() < 0.3) {
        const horizon = Math.floor(random.next() * 100);
        tree.forget(p, horizon);
        if ((times.get(p) ?? Infinity) <= horizon) times.delete(p);
      } else {
        const at = Math.floor(random.next() * 100);
        tree.set(p, at);
        times.set(p, Math.max(at, times.get(p) ?? -Infinity));
      }
      const s = gen.url();
      let expected = Number.NEGATIVE_INFINITY;
      for (const [prefix, at] of times) if (s.startsWith(prefix) && at > expected) expected = at;
      assert.equal(tree.latest(s), expected, `step ${step}: ${s}`);
      assert.equal(tree.size, times.size);
    }
  });
});

describe('purges through the cache', () => {
  test('purges by URL, prefix and tag make the entries they name misses, and only those', async () => {
    const clock = new ManualWallClock(1_700_000_000_000);
    const cache = new HttpCache(new MemoryStore({ maxBytes: 1 << 20 }), undefined, new LocalPurgeBus(), { coalesceTimeoutMs: 1000, wallClock: clock });
    const put = (key: string, url: string, tags: string[]) => cache.set(key, response({ url, tags, storedAt: clock.now() }), 60_000);
    put('1', 'shop.example/a', []);
    put('2', 'shop.example/a/b', []);
    put('3', 'shop.example/c', ['red']);
    put('4', 'other.example/a', ['blue']);
    clock.advance(1);
    await cache.purge('url', 'shop.example/a');
    assert.equal(cache.lookup('1'), undefined);
    assert.notEqual(cache.lookup('2'), undefined, 'a URL purge is exact');
    await cache.purge('tag', 'red');
    assert.equal(cache.lookup('3'), undefined);
    await cache.purge('prefix', 'shop.example/a/');
    assert.equal(cache.lookup('2'), undefined);
    assert.notEqual(cache.lookup('4'), undefined);
    clock.advance(1);
    put('5', 'shop.example/a/b', ['red']);
    assert.notEqual(cache.lookup('5'), undefined, 'stored after the purges');
  });
});
