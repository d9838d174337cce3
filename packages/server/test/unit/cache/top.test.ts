import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergeTop, TopCounter } from '../../../src/cache/top.ts';
import { EMPTY_CACHE, sumSnapshots, type StatsSnapshot } from '../../../src/observability/stats.ts';

describe('TopCounter (Space-Saving)', () => {
  test('counts exactly while the table has room, largest first', () => {
    const top = new TopCounter(8);
    for (const name of ['a', 'b', 'a', 'c', 'a', 'b']) top.add(name);
    assert.deepEqual(top.top(10), [
      { name: 'a', count: 3 },
      { name: 'b', count: 2 },
      { name: 'c', count: 1 },
    ]);
  });

  test('keeps the true heavy hitters, in order, among many more distinct names than it has room for', () => {
    const top = new TopCounter(64); // every name above total/64 (~92) is sure to be kept
    // 3 heavy names spread through 5000 names seen once each (a fixed interleaving: no randomness).
    for (let i = 0; i < 5000; i++) {
      top.add(`/noise/${i}`);
      if (i % 10 === 0) top.add('/hot');
      if (i % 20 === 0) top.add('/warm');
      if (i % 40 === 0) top.add('/mild');
    }
    assert.deepEqual(top.top(3).map((e) => e.name), ['/hot', '/warm', '/mild']);
    // Space-Saving overestimates, never underestimates.
    assert.ok(top.top(1)[0]!.count >= 500);
  });

  test('never holds more names than its capacity', () => {
    const top = new TopCounter(4);
    for (let i = 0; i < 100; i++) top.add(String(i));
    assert.equal(top.top(100).length, 4);
  });

  test('top(0) is empty', () => {
    const top = new TopCounter();
    top.add('a');
    assert.deepEqual(top.top(0), []);
  });
});

describe('mergeTop', () => {
  test('sums counts by name across lists and keeps the n largest, largest first', () => {
    const merged = mergeTop(
      [
        [{ name: '/a', count: 5 }, { name: '/b', count: 4 }],
        [{ name: '/b', count: 3 }, { name: '/c', count: 6 }],
        [{ name: '/d', count: 1 }],
      ],
      3,
    );
    assert.deepEqual(merged, [
      { name: '/b', count: 7 },
      { name: '/c', count: 6 },
      { name: '/a', count: 5 },
    ]);
  });

  test('of no lists is empty', () => {
    assert.deepEqual(mergeTop([], 10), []);
  });
});

describe('sumSnapshots', () => {
  test('merges the workers\' top lists into one, counts summed by name', () => {
    const worker = (urls: Array<[string, number]>, tags: Array<[string, number]>): StatsSnapshot => ({
      pools: {},
      connections: 0,
      cache: {
        ...EMPTY_CACHE,
        hits: 1,
        topUrls: urls.map(([name, count]) => ({ name, count })),
        topTags: tags.map(([name, count]) => ({ name, count })),
      },
    });
    const total = sumSnapshots([worker([['h/a', 2], ['h/b', 5]], [['x', 7]]), worker([['h/a', 4]], [['x', 4], ['y', 1]])]);
    assert.equal(total.cache!.hits, 2);
    assert.deepEqual(total.cache!.topUrls, [{ name: 'h/a', count: 6 }, { name: 'h/b', count: 5 }]);
    assert.deepEqual(total.cache!.topTags, [{ name: 'x', count: 11 }, { name: 'y', count: 1 }]);
    assert.deepEqual(EMPTY_CACHE.topUrls, [], 'the empty snapshot is left untouched');
  });
});
