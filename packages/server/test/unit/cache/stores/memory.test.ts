import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENTRY_OVERHEAD_BYTES, MemoryStore, STRING_OVERHEAD_BYTES, entrySize } from '../../../../src/cache/stores/memory.ts';
import { ManualClock } from '../../../support/fake-time.ts';
import { response } from './fixtures.ts';

/** A response of exactly `bytes` counted bytes under key `k0`-like keys of two characters. */
function sized(bytes: number) {
  const base = entrySize('k0', response({ body: Buffer.alloc(0) }));
  return response({ body: Buffer.alloc(bytes - base) });
}

describe('memory store', () => {
  test('an entry counts its body, key, url, headers, tags, policy and a fixed overhead', () => {
    const bare = response({ url: '', headers: [], tags: [], policy: {}, body: Buffer.alloc(0) });
    const base = entrySize('', bare);
    assert.ok(base >= ENTRY_OVERHEAD_BYTES);
    assert.equal(entrySize('', response({ ...bare, body: Buffer.alloc(1000) })), base + 1000);
    assert.equal(entrySize('key', bare), base + 3);
    assert.equal(entrySize('', response({ ...bare, url: 'host/path' })), base + 9);
    assert.equal(entrySize('', response({ ...bare, headers: ['ab', 'cde'] })), base + 2 * STRING_OVERHEAD_BYTES + 5);
    assert.equal(entrySize('', response({ ...bare, tags: ['t1'] })), base + STRING_OVERHEAD_BYTES + 2);
    assert.ok(entrySize('', response({ ...bare, policy: { resh: { 'cache-control': 'x'.repeat(500) } } })) > base + 500);
  });

  test('stats count exactly the bytes and entries held, back to zero when emptied', async () => {
    const store = new MemoryStore({ maxBytes: 1_000_000 });
    await store.set('k0', response(), 1000);
    await store.set('k1', response({ body: Buffer.alloc(5000) }), 1000);
    assert.deepEqual(store.stats(), {
      bytes: entrySize('k0', response()) + entrySize('k1', response({ body: Buffer.alloc(5000) })),
      entries: 2,
      evictions: 0,
      errors: 0,
      skipped: 0,
    });
    await store.delete('k0');
    await store.set('k1', response(), 1000);
    assert.equal(store.stats().bytes, entrySize('k1', response()));
    await store.delete('k1');
    assert.deepEqual({ bytes: store.stats().bytes, entries: store.stats().entries }, { bytes: 0, entries: 0 });
  });

  test('an entry is served until its time to live has passed, then it is a miss and its bytes are freed', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ maxBytes: 1_000_000, clock });
    await store.set('k', response(), 1000);
    clock.advance(999);
    assert.ok(await store.get('k'));
    clock.advance(1);
    assert.equal(await store.get('k'), undefined);
    assert.equal(store.stats().entries, 0);
    assert.equal(store.stats().bytes, 0);
  });

  test('when over maxBytes the least recently used entries go first, a read counting as a use', async () => {
    const store = new MemoryStore({ maxBytes: 3000 });
    for (const k of ['k0', 'k1', 'k2']) await store.set(k, sized(1000), 60_000);
    await store.get('k0'); // k1 is now the least recently used
    await store.set('k3', sized(1000), 60_000);
    assert.deepEqual(await Promise.all(['k0', 'k1', 'k2', 'k3'].map(async (k) => (await store.get(k)) !== undefined)), [true, false, true, true]);
    assert.equal(store.stats().evictions, 1);
    assert.equal(store.stats().bytes, 3000);
  });

  test('one large entry evicts as many small ones as it needs', async () => {
    const store = new MemoryStore({ maxBytes: 3000 });
    for (const k of ['k0', 'k1', 'k2']) await store.set(k, sized(1000), 60_000);
    await store.set('k9', sized(2500), 60_000);
    assert.equal(store.stats().evictions, 3);
    assert.equal(store.stats().entries, 1);
  });

  test('an entry larger than maxBytes is not stored, is counted as skipped, and its key\'s old entry goes', async () => {
    const store = new MemoryStore({ maxBytes: 3000 });
    await store.set('k0', sized(1000), 60_000);
    await store.set('k1', sized(1000), 60_000);
    await store.set('k0', sized(3001), 60_000);
    assert.equal(await store.get('k0'), undefined);
    assert.ok(await store.get('k1'));
    assert.deepEqual({ ...store.stats(), bytes: undefined }, { bytes: undefined, entries: 1, evictions: 0, errors: 0, skipped: 1 });
  });

  test('a response with no time to live is not stored', async () => {
    const store = new MemoryStore({ maxBytes: 100_000 });
    await store.set('k', response(), 0);
    await store.set('j', response(), -5);
    assert.equal(store.stats().entries, 0);
  });

  test('repeated hits hand back the same resolved promise, and misses one shared promise', async () => {
    const store = new MemoryStore({ maxBytes: 100_000 });
    await store.set('k', response(), 1000);
    assert.equal(store.get('k'), store.get('k'));
    assert.equal(store.get('absent'), store.get('other'));
    assert.equal(store.lookup('k'), await store.get('k'));
  });

  test('prune drops the expired entries that nobody reads', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ maxBytes: 100_000, clock });
    await store.set('short', response(), 100);
    await store.set('long', response(), 10_000);
    clock.advance(200);
    assert.equal(store.prune(), 1);
    assert.equal(store.stats().entries, 1);
    assert.ok(store.lookup('long'));
  });
});
