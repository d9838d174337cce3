import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gcra, type Decision, type GcraPolicy } from '../../../src/limits/gcra.ts';
import { ManualClock } from '../../../test/support/fake-time.ts';

/** Runs GCRA over one key the way a store does: the TAT kept between requests. */
function key(policy: GcraPolicy, clock: ManualClock) {
  let tat: number | undefined;
  return (): Decision => {
    const next = gcra(tat, clock.now(), policy);
    tat = next.tat;
    return next.decision;
  };
}

test('a burst of `burst` requests is allowed at once, the next is refused', () => {
  const clock = new ManualClock(1000);
  const take = key({ intervalMs: 1000, burst: 5 }, clock);
  const seen = Array.from({ length: 6 }, take);
  assert.deepEqual(seen.map((d) => d.allowed), [true, true, true, true, true, false]);
  assert.deepEqual(seen.slice(0, 5).map((d) => d.remaining), [4, 3, 2, 1, 0]);
});

test('a refusal says how long until one request is allowed, and that request is then allowed', () => {
  const clock = new ManualClock();
  const take = key({ intervalMs: 200, burst: 2 }, clock);
  take();
  clock.advance(50);
  take();
  const refused = take();
  assert.equal(refused.allowed, false);
  assert.equal(refused.retryAfterMs, 150);
  clock.advance(149);
  assert.equal(take().allowed, false, 'one millisecond early');
  clock.advance(1);
  assert.equal(take().allowed, true);
});

test('the bucket refills one request per interval, up to the burst and no further', () => {
  const clock = new ManualClock();
  const take = key({ intervalMs: 100, burst: 3 }, clock);
  for (let i = 0; i < 3; i++) take();
  clock.advance(250); // two intervals and a half: two requests back
  assert.deepEqual([take().allowed, take().allowed, take().allowed], [true, true, false]);
  clock.advance(10_000); // a long quiet spell gives the burst back, never more
  assert.deepEqual(Array.from({ length: 4 }, () => take().allowed), [true, true, true, false]);
});

test('refused requests cost nothing: hammering does not push the next allowed request further away', () => {
  const clock = new ManualClock();
  const take = key({ intervalMs: 100, burst: 1 }, clock);
  take();
  for (let i = 0; i < 50; i++) take();
  clock.advance(100);
  assert.equal(take().allowed, true);
});

test('reset is the time until the whole burst is back', () => {
  const clock = new ManualClock();
  const take = key({ intervalMs: 1000, burst: 10 }, clock);
  assert.equal(take().resetMs, 1000);
  assert.equal(take().resetMs, 2000);
  clock.advance(500);
  assert.equal(take().resetMs, 2500);
});

test('an interval that is not a whole number of ms still fits the whole burst (100 per 30 s)', () => {
  const clock = new ManualClock(123.456);
  const take = key({ intervalMs: 30_000 / 100, burst: 100 }, clock);
  const allowed = Array.from({ length: 101 }, take).filter((d) => d.allowed).length;
  assert.equal(allowed, 100);
  const third = key({ intervalMs: 1000 / 3, burst: 3 }, new ManualClock(0));
  assert.deepEqual([third().allowed, third().allowed, third().allowed, third().allowed], [true, true, true, false]);
});

test('a sustained rate at the limit is always allowed; above it, no more than the rate (plus the burst) gets through', () => {
  const clock = new ManualClock();
  const atRate = key({ intervalMs: 10, burst: 1 }, clock);
  for (let i = 0; i < 1000; i++) {
    assert.equal(atRate().allowed, true, `request ${i}`);
    clock.advance(10);
  }
  const above = key({ intervalMs: 10, burst: 10 }, clock);
  let allowed = 0;
  for (let i = 0; i < 1000; i++) {
    if (above().allowed) allowed++;
    clock.advance(9); // 1.11x the rate, for 9 s: 900 at the rate, 10 more from the burst
  }
  assert.ok(allowed <= 911 && allowed >= 890, `allowed ${allowed}`);
});
