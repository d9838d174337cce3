import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLimiterStore } from '../../../src/limits/memory-store.ts';
import { ManualClock } from '../../../test/support/fake-time.ts';

const policy = { intervalMs: 1000, burst: 2 };

test('keys whose burst is whole again are swept away; live ones stay', async () => {
  const clock = new ManualClock();
  const store = new MemoryLimiterStore(clock, 100);
  store.take('a', policy);
  store.take('b', policy);
  store.take('b', policy);
  clock.advance(1500);
  store.sweep();
  assert.equal(store.size, 1, 'a is full again, b is not');
  assert.equal(store.take('b', policy).remaining, 0, 'b kept its state');
  await store.close();
});

test('past maxKeys the oldest keys are forgotten, so memory stays bounded under a spray of keys', async () => {
  const clock = new ManualClock();
  const store = new MemoryLimiterStore(clock, 3);
  for (const k of ['a', 'b', 'c', 'd', 'e']) store.take(k, policy);
  assert.equal(store.size, 3);
  assert.equal(store.evicted, 2);
  // 'a' was forgotten: its burst is whole again; 'e' is remembered.
  assert.equal(store.take('a', policy).remaining, 1);
  assert.equal(store.take('e', policy).remaining, 0);
  await store.close();
});

test('a refused request does not store a key', async () => {
  const store = new MemoryLimiterStore(new ManualClock(), 10);
  store.take('k', { intervalMs: 1000, burst: 1 });
  assert.equal(store.take('k', { intervalMs: 1000, burst: 1 }).allowed, false);
  assert.equal(store.size, 1);
  await store.close();
});
