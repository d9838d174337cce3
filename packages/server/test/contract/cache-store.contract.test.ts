/**
 * The contract every cache store keeps (src/cache/store.ts), run against each of them: the memory store, and the
 * Redis and memcached stores against a real redis-server and memcached started for this file. Never skipped.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CacheStore, StoreName, StoredResponse } from '../../src/cache/store.ts';
import { MemcachedStore } from '../../src/cache/stores/memcached.ts';
import { MemoryStore } from '../../src/cache/stores/memory.ts';
import { RedisStore } from '../../src/cache/stores/redis.ts';
import { eventually } from '../support/eventually.ts';
import { startMemcached } from '../support/memcached.ts';
import { startRedis } from '../support/redis.ts';

interface Fixture {
  readonly store: CacheStore;
  /** Short enough to wait out, long enough to read the entry back first (memcached counts whole seconds). */
  readonly shortTtlMs: number;
  /** Whether a 2 MiB body is kept (memcached's items are 1 MiB at most). */
  readonly keepsLargeBodies: boolean;
  close(): Promise<void>;
}

const LONG_TTL_MS = 60_000;
/** The contract is about behaviour, not speed (timeouts have their own tests): room for a loaded machine. */
const TIMEOUT_MS = 2000;

const STORES: Record<StoreName, () => Promise<Fixture>> = {
  async memory() {
    const store = new MemoryStore({ maxBytes: 64 * 1024 * 1024 });
    return { store, shortTtlMs: 50, keepsLargeBodies: true, close: () => store.close() };
  },
  async redis() {
    const redis = await startRedis();
    const store = new RedisStore({ url: redis.url, keyPrefix: 'contract:', timeoutMs: TIMEOUT_MS });
    assert.ok(await store.ready(), 'connected to redis-server');
    return { store, shortTtlMs: 500, keepsLargeBodies: true, close: async () => (await store.close(), await redis.stop()) };
  },
  async memcached() {
    const memcached = await startMemcached();
    const store = new MemcachedStore({ servers: [memcached.server], keyPrefix: 'contract:', timeoutMs: TIMEOUT_MS });
    // 1.5 s is 2 s for memcached, whose clock ticks each second: the entry lives more than 1 s, at most 2.
    return { store, shortTtlMs: 1500, keepsLargeBodies: false, close: async () => (await store.close(), await memcached.stop()) };
  },
};

function response(overrides: Partial<StoredResponse> = {}): StoredResponse {
  return {
    url: 'example.com/a?b=1',
    status: 200,
    headers: ['content-type', 'application/octet-stream', 'x-note', 'café ✓', 'etag', '"v1"'],
    body: Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256)),
    storedAt: 1_700_000_000_000,
    tags: ['product-1', 'catalogue'],
    policy: { v: 1, t: 1_700_000_000_000, sh: true, ch: 0, st: 200, resh: { 'cache-control': 'max-age=60', etag: '"v1"' }, reqh: null },
    ...overrides,
  };
}

// The three stores run side by side (each waits out its own TTL test), the tests of one store in order.
describe('cache store contract', { concurrency: true }, () => {
  for (const name of Object.keys(STORES) as StoreName[]) {
    describe(`${name} store`, { concurrency: 1 }, () => {
      let f: Fixture;
      before(async () => {
        f = await STORES[name]();
      });
      after(() => f.close());

      test('its name is the config\'s', () => {
        assert.equal(f.store.name, name);
      });

      test('a stored response comes back whole: binary body, headers, tags and policy', async () => {
        const value = response();
        await f.store.set('round-trip', value, LONG_TTL_MS);
        const got = await f.store.get('round-trip');
        assert.deepEqual(got, value);
        assert.ok(Buffer.isBuffer(got?.body));
      });

      test('an absent key is a miss', async () => {
        assert.equal(await f.store.get('never-set'), undefined);
      });

      test('an entry expires after its time to live', async () => {
        await f.store.set('short', response(), f.shortTtlMs);
        assert.ok(await f.store.get('short'), 'present before its time to live');
        await eventually(async () => (await f.store.get('short')) === undefined, f.shortTtlMs + 2500, 'expired');
      });

      test('a response with no time to live is not stored', async () => {
        await f.store.set('no-ttl', response(), 0);
        assert.equal(await f.store.get('no-ttl'), undefined);
      });

      test('delete removes an entry, and deleting an absent key is harmless', async () => {
        await f.store.set('doomed', response(), LONG_TTL_MS);
        await f.store.delete('doomed');
        assert.equal(await f.store.get('doomed'), undefined);
        await f.store.delete('doomed');
      });

      test('a second set of a key replaces the first', async () => {
        await f.store.set('twice', response({ status: 200, body: Buffer.from('first') }), LONG_TTL_MS);
        await f.store.set('twice', response({ status: 404, body: Buffer.from('second'), tags: [] }), LONG_TTL_MS);
        const got = await f.store.get('twice');
        assert.equal(got?.status, 404);
        assert.equal(got?.body.toString(), 'second');
        assert.deepEqual(got?.tags, []);
      });

      test(name === 'memcached' ? 'a 2 MiB body is skipped, beyond the 1 MiB item limit' : 'a 2 MiB body is stored', async () => {
        const body = Buffer.alloc(2 * 1024 * 1024);
        for (let i = 0; i < body.length; i += 4096) body[i] = i % 251;
        const skippedBefore = (f.store.stats() as { skipped?: number }).skipped;
        const errorsBefore = f.store.stats().errors;
        await f.store.set('large', response({ body }), LONG_TTL_MS);
        const got = await f.store.get('large');
        if (f.keepsLargeBodies) {
          assert.ok(got?.body.equals(body), 'large body round trip');
        } else {
          assert.equal(got, undefined);
          assert.equal((f.store.stats() as { skipped?: number }).skipped, (skippedBefore ?? 0) + 1);
        }
        assert.equal(f.store.stats().errors, errorsBefore, 'a large body is no error');
      });

      test('many keys written at once are kept apart', async () => {
        const keys = Array.from({ length: 300 }, (_, i) => `many:${i}`);
        await Promise.all(keys.map((k, i) => f.store.set(k, response({ url: `example.com/${i}`, body: Buffer.from(k) }), LONG_TTL_MS)));
        const got = await Promise.all(keys.map((k) => f.store.get(k)));
        got.forEach((g, i) => {
          assert.equal(g?.url, `example.com/${i}`);
          assert.equal(g?.body.toString(), keys[i]);
        });
      });

      test('keys of any length and any characters are kept apart', async () => {
        const keys = ['GET example.com/a b', 'GET example.com/a\u00a0b', 'k\r\nset x 0 0 1', `GET example.com/${'x'.repeat(2000)}`, `GET example.com/${'x'.repeat(2001)}`, 'GET example.com/ünïcode/✓'];
        await Promise.all(keys.map((k, i) => f.store.set(k, response({ body: Buffer.from(String(i)) }), LONG_TTL_MS)));
        const got = await Promise.all(keys.map((k) => f.store.get(k)));
        assert.deepEqual(got.map((g) => g?.body.toString()), keys.map((_, i) => String(i)));
      });

      test('stats have the StoreStats shape, and a healthy store counts no errors', () => {
        const stats = f.store.stats();
        for (const field of ['bytes', 'entries'] as const) {
          assert.ok(stats[field] === undefined || (Number.isInteger(stats[field]) && stats[field] >= 0), `${field}: ${stats[field]}`);
        }
        assert.ok(Number.isInteger(stats.evictions) && stats.evictions >= 0);
        assert.equal(stats.errors, 0);
        if (name === 'memory') assert.ok(stats.entries! > 300 && stats.bytes! > 2 * 1024 * 1024);
      });
    });
  }
});
