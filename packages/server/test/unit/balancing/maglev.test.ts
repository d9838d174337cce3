import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAGLEV_TABLE_SIZE, buildMaglevTable } from '../../../src/balancing/maglev.ts';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `http://10.0.0.${i + 1}:8080`);

function slotsPerIndex(table: Uint32Array, n: number): number[] {
  const counts = new Array<number>(n).fill(0);
  for (const i of table) counts[i]!++;
  return counts;
}

describe('maglev table', () => {
  test('with equal weights every backend owns the same number of slots, give or take one', () => {
    const counts = slotsPerIndex(buildMaglevTable(ids(7), new Array(7).fill(1)), 7);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${counts}`);
    assert.equal(counts.reduce((a, b) => a + b, 0), MAGLEV_TABLE_SIZE);
  });

  test('slots are owned in proportion to weights, fractional ones included', () => {
    const weights = [1, 2.5, 4, 0.5];
    const counts = slotsPerIndex(buildMaglevTable(ids(4), weights), 4);
    const total = weights.reduce((a, b) => a + b, 0);
    counts.forEach((count, i) => {
      const want = (weights[i]! / total) * MAGLEV_TABLE_SIZE;
      assert.ok(Math.abs(count / want - 1) < 0.01, `index ${i}: ${count} slots, expected ${want.toFixed(0)}`);
    });
  });

  test('the table depends only on ids and weights, so every worker builds the same', () => {
    assert.deepEqual(buildMaglevTable(ids(5), [1, 1, 2, 1, 1]), buildMaglevTable(ids(5), [1, 1, 2, 1, 1]));
  });

  test('an empty pool gives an empty table', () => {
    assert.equal(buildMaglevTable([], []).length, 0);
  });
});
