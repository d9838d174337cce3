import { test } from 'node:test';
import assert from 'node:assert/strict';
import { monotonicClock, systemTimers, wallClock, type MonotonicClock, type WallClock } from '../../src/time.ts';
import { FakeTime } from '../support/fake-time.ts';

test('the monotonic and the wall clock are distinct types: one cannot be passed for the other', () => {
  // @ts-expect-error: a wall reading may jump, a deadline must not
  const monotonic: MonotonicClock = wallClock;
  // @ts-expect-error: a monotonic reading is not a date
  const wall: WallClock = monotonicClock;
  assert.deepEqual([monotonic.kind, wall.kind], ['wall', 'monotonic']);
});

test('system timers and intervals do not keep the process alive', () => {
  const timeout = systemTimers.setTimeout(() => {}, 60_000);
  const interval = systemTimers.setInterval(() => {}, 60_000);
  assert.equal((timeout as unknown as NodeJS.Timeout).hasRef(), false);
  assert.equal((interval as unknown as NodeJS.Timeout).hasRef(), false);
  systemTimers.clearTimeout(timeout);
  systemTimers.clearInterval(interval);
});

test('fake time runs timers in time order at their own time, and moves both clocks together', async () => {
  const time = new FakeTime({ monotonic: 0, wall: 1_000_000 });
  const ran: string[] = [];
  const at = (what: string) => () => ran.push(`${what}@${time.clock.now()}/${time.wallClock.now()}`);
  time.timers.setTimeout(at('b'), 20);
  time.timers.setTimeout(at('a'), 10);
  time.timers.setTimeout(at('c'), 20);
  const never = time.timers.setTimeout(at('never'), 5);
  time.timers.clearTimeout(never);
  await time.advance(15);
  assert.deepEqual(ran, ['a@10/1000010']);
  await time.advance(100);
  assert.deepEqual(ran, ['a@10/1000010', 'b@20/1000020', 'c@20/1000020']);
  assert.equal(time.clock.now(), 115);
  assert.equal(time.timers.count, 0);
});

test('a fake interval fires once per period until cleared, and promise callbacks run between firings', async () => {
  const time = new FakeTime({ monotonic: 0 });
  const seen: number[] = [];
  const interval = time.timers.setInterval(() => void Promise.resolve(time.clock.now()).then((t) => seen.push(t)), 100);
  await time.advance(350);
  assert.deepEqual(seen, [100, 200, 300]);
  time.timers.clearInterval(interval);
  await time.advance(1000);
  assert.deepEqual(seen, [100, 200, 300]);
});
