import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { reconnectDelay } from '../../../../src/cache/stores/redis-client.ts';

const fixed = (v: number) => ({ next: () => v });

describe('redis reconnect delay', () => {
  test('doubles from the minimum up to the maximum, then stays there', () => {
    const delays = [1, 2, 3, 4, 5, 6, 50, 10_000].map((n) => reconnectDelay(n, 50, 1000, fixed(0.999999)));
    assert.deepEqual(delays, [50, 100, 200, 400, 800, 1000, 1000, 1000]);
  });

  test('jitter takes off at most half the delay', () => {
    assert.equal(reconnectDelay(3, 50, 1000, fixed(0)), 100);
    for (let i = 0; i < 100; i++) {
      const d = reconnectDelay(3, 50, 1000, { next: Math.random });
      assert.ok(d >= 100 && d <= 200, `${d}`);
    }
  });
});
