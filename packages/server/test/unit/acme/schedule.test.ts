import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_TIMER_MS, nextCheckIn, renewalDue, retryDelay } from '../../../src/acme/schedule.ts';
import { seededRandom } from '../../../src/time.ts';

const DAY = 86_400_000;

describe('ACME schedule', () => {
  test('a 90-day certificate is due after 60 days at the default 67% (about 2/3)', () => {
    const due = renewalDue(0, 90 * DAY, 2 / 3);
    assert.equal(due, 60 * DAY);
    assert.ok(Math.abs(renewalDue(0, 90 * DAY, 0.67) - 60.3 * DAY) < 1000);
  });

  test('backoff doubles from min up to max, and is jittered within the upper half', () => {
    const random = seededRandom(7);
    const ceilings = [1, 2, 3, 4, 10].map((failures) => Math.min(3_600_000, 60_000 * 2 ** (failures - 1)));
    for (const [i, failures] of [1, 2, 3, 4, 10].entries()) {
      for (let k = 0; k < 50; k++) {
        const wait = retryDelay(failures, 60_000, 3_600_000, random);
        assert.ok(wait >= ceilings[i]! / 2 && wait <= ceilings[i]!, `${failures} failures: ${wait}`);
      }
    }
    const spread = new Set(Array.from({ length: 20 }, () => Math.round(retryDelay(3, 60_000, 3_600_000, random))));
    assert.ok(spread.size > 15, 'two instances failing together do not retry together');
  });

  test('a due time far away is checked again within a timer\'s reach; one passed is due now', () => {
    assert.equal(nextCheckIn(60 * DAY, 0), MAX_TIMER_MS);
    assert.ok(MAX_TIMER_MS < 2 ** 31 - 1);
    assert.equal(nextCheckIn(1000, 5000), 0);
    assert.equal(nextCheckIn(6000, 5000), 1000);
  });
});
