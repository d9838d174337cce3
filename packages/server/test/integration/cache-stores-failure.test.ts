/**
 * The cache stores and purge buses when things go wrong, against real redis-server and memcached processes:
 * killed, frozen, restarted on the same port; a memory store over its size; purges between instances; keys spread
 * over several memcached servers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredResponse } from '../../src/cache/store.ts';
import type { Purge, PurgeBus } from '../../src/cache/purge-bus.ts';
import { MemcachedPurgeBus } from '../../src/cache/stores/memcached-purge-bus.ts';
import { RedisPurgeBus } from '../../src/cache/stores/redis-purge-bus.ts';
import { MemcachedStore } from '../../src/cache/stores/memcached.ts';
import { MemoryStore, entrySize } from '../../src/cache/stores/memory.ts';
import { RedisStore } from '../../src/cache/stores/redis.ts';
import { startMemcached, startMemcacheds, type TestMemcached } from '../support/memcached.ts';
import { startRedis, type TestRedis, type TestService } from '../support/redis.ts';

const TIMEOUT_MS = 150;
/** Scheduling slack on top of a deadline, for a loaded CI machine. */
const SLACK_MS = 200;

function response(body = 'hello'): StoredResponse {
  return { url: 'example.com/', status: 200, headers: ['content-type', 'text/plain'], body: Buffer.from(body), storedAt: 1, tags: [], policy: {} };
}

async function timed<T>(op: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await op;
  return { value, ms: performance.now() - start };
}

async function eventually(ms: number, check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The same story for both shared stores: frozen, killed, restarted. */
function failsOpen(name: string, setUp: () => Promise<{ service: TestService; store: RedisStore | MemcachedStore }>) {
  describe(`${name} store fails open`, { concurrency: 1 }, () => {
    let service: TestService;
    let store: RedisStore | MemcachedStore;
    before(async () => ({ service, store } = await setUp()));
    after(async () => {
      await store.close();
      await service.stop();
    });

    test(`a ${name} that does not answer costs each operation its timeout, counted as an error`, async () => {
      await store.set('k', response(), 60_000);
      await service.freeze();
      try {
        const before = store.stats();
        const [get, set] = await Promise.all([timed(store.get('k')), timed(store.set('k', response(), 60_000))]);
        assert.equal(get.value, undefined);
        // Not much less: a timer counts from the event loop's cached time, which lags on a busy machine.
        for (const { ms } of [get, set]) assert.ok(ms >= TIMEOUT_MS - 50 && ms < TIMEOUT_MS + SLACK_MS, `${ms} ms`);
        assert.equal(store.stats().errors, before.errors + 2);
        assert.equal(store.stats().timeouts, before.timeouts + 2);
      } finally {
        service.thaw();
      }
      await eventually(2000, async () => (await store.get('k')) !== undefined, 'answers again after thawing');
    });

    test(`with ${name} killed, get and set resolve at once as a miss and a no-op, and count errors`, async () => {
      await service.kill();
      const before = store.stats().errors;
      const get = await timed(store.get('k'));
      const set = await timed(store.set('k2', response(), 60_000));
      const del = await timed(store.delete('k'));
      assert.equal(get.value, undefined);
      // Refused connections fail at once: nothing waits for the timeout.
      for (const { ms } of [get, set, del]) assert.ok(ms < TIMEOUT_MS, `${ms} ms`);
      assert.equal(store.stats().errors, before + 3);
    });

    test(`when ${name} comes back on the same port, the store works again by itself`, async () => {
      await service.restart();
      await eventually(3000, async () => {
        await store.set('back', response('again'), 60_000);
        return (await store.get('back'))?.body.toString() === 'again';
      }, 'round trip after restart');
    });
  });
}

failsOpen('Redis', async () => {
  const service = await startRedis();
  const store = new RedisStore({ url: service.url, timeoutMs: TIMEOUT_MS, reconnectMinMs: 20, reconnectMaxMs: 100 });
  assert.ok(await store.ready());
  return { service, store };
});

failsOpen('memcached', async () => {
  const service = await startMemcached();
  return { service, store: new MemcachedStore({ servers: [service.server], timeoutMs: TIMEOUT_MS }) };
});

describe('memory store over its size', () => {
  test('evicts the least recently used entries and counts the evictions', async () => {
    const one = entrySize('k0', response('x'.repeat(1000)));
    const store = new MemoryStore({ maxBytes: 3 * one });
    for (const k of ['k0', 'k1', 'k2']) await store.set(k, response('x'.repeat(1000)), 60_000);
    await store.get('k0');
    await store.get('k2');
    await store.set('k3', response('x'.repeat(1000)), 60_000);
    await store.set('k4', response('x'.repeat(1000)), 60_000);
    const present = await Promise.all(['k0', 'k1', 'k2', 'k3', 'k4'].map(async (k) => (await store.get(k)) !== undefined));
    assert.deepEqual(present, [false, false, true, true, true]);
    assert.equal(store.stats().evictions, 2);
    assert.ok(store.stats().bytes <= 3 * one);
  });
});

describe('purge buses', () => {
  let redis: TestRedis;
  let memcached: TestMemcached;
  before(async () => ([redis, memcached] = await Promise.all([startRedis(), startMemcached()])));
  after(() => Promise.all([redis.stop(), memcached.stop()]));

  /** Two instances of a bus: a purge published on one reaches the other's subscriber within `ms`. */
  async function reaches(a: PurgeBus, b: PurgeBus & { ready(): Promise<boolean> }, ms: number): Promise<void> {
    const got: Purge[] = [];
    b.subscribe((p) => got.push(p));
    assert.ok(await b.ready());
    const purge: Purge = { kind: 'prefix', value: 'example.com/products/', at: Date.now() };
    const start = performance.now();
    await a.publish(purge);
    await eventually(ms, async () => got.length > 0, 'purge delivered');
    assert.ok(performance.now() - start < ms);
    assert.deepEqual(got, [purge]);
  }

  test('a purge published on one RedisPurgeBus reaches another instance\'s subscriber', async () => {
    const [a, b] = [new RedisPurgeBus({ url: redis.url }), new RedisPurgeBus({ url: redis.url })];
    try {
      await reaches(a, b, 1000);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('a purge published on one MemcachedPurgeBus reaches another instance\'s subscriber within a second', async () => {
    const [a, b] = [new MemcachedPurgeBus({ servers: [memcached.server] }), new MemcachedPurgeBus({ servers: [memcached.server] })];
    try {
      await reaches(a, b, 1000);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('purges published at the same moment by several memcached instances all arrive (compare-and-swap)', async () => {
    const keyPrefix = 'race:';
    const publishers = Array.from({ length: 3 }, () => new MemcachedPurgeBus({ servers: [memcached.server], keyPrefix }));
    const reader = new MemcachedPurgeBus({ servers: [memcached.server], keyPrefix, pollMs: 50 });
    const got = new Set<string>();
    reader.subscribe((p) => got.add(p.value));
    try {
      assert.ok(await reader.ready());
      await Promise.all(publishers.flatMap((bus, i) => Array.from({ length: 5 }, (_, j) => bus.publish({ kind: 'tag', value: `t${i}-${j}`, at: Date.now() }))));
      await eventually(1000, async () => got.size === 15, `15 purges, got ${got.size}`);
    } finally {
      await Promise.all([...publishers, reader].map((b) => b.close()));
    }
  });

  test('an instance that starts after a purge replays it from the recent ones, on both buses', async () => {
    const purge: Purge = { kind: 'url', value: 'example.com/late', at: Date.now() };
    const buses = () => [new RedisPurgeBus({ url: redis.url, keyPrefix: 'late:' }), new MemcachedPurgeBus({ servers: [memcached.server], keyPrefix: 'late:' })];
    const early = buses();
    const late: ReturnType<typeof buses> = [];
    try {
      await Promise.all(early.map((b) => b.publish(purge)));
      late.push(...buses());
      const got: Purge[][] = late.map(() => []);
      late.forEach((b, i) => b.subscribe((p) => got[i]!.push(p)));
      assert.deepEqual(await Promise.all(late.map((b) => b.ready())), [true, true]);
      assert.deepEqual(got, [[purge], [purge]]);
    } finally {
      await Promise.all([...early, ...late].map((b) => b.close()));
    }
  });

  test('publishing while Redis is down still purges locally, and rejects so that the caller can tell', async () => {
    const dead = await startRedis();
    const bus = new RedisPurgeBus({ url: dead.url, timeoutMs: TIMEOUT_MS });
    const got: Purge[] = [];
    bus.subscribe((p) => got.push(p));
    try {
      assert.ok(await bus.ready());
      await dead.kill();
      const purge: Purge = { kind: 'tag', value: 't', at: Date.now() };
      await assert.rejects(bus.publish(purge), /not published to Redis/);
      assert.deepEqual(got, [purge]);
    } finally {
      await bus.close();
      await dead.stop();
    }
  });
});

describe('memcached consistent hashing over three servers', () => {
  let servers: TestMemcached[];
  before(async () => (servers = await startMemcacheds(3)));
  after(() => Promise.all(servers.map((s) => s.stop())));
  const keys = Array.from({ length: 600 }, (_, i) => `GET:example.com/item/${i}`);

  test('keys spread over every server, and each is on the server the hashing names', async () => {
    const names = servers.map((s) => s.server);
    const store = new MemcachedStore({ servers: names });
    const alone = names.map((s) => new MemcachedStore({ servers: [s] }));
    try {
      await Promise.all(keys.map((k) => store.set(k, response(k), 60_000)));
      const counts = names.map((s) => keys.filter((k) => store.serverFor(k) === s).length);
      for (const n of counts) assert.ok(n > keys.length / 6, `spread: ${counts}`);
      // Asked one server at a time, exactly the keys the hashing put there are found there.
      for (const [i, one] of alone.entries()) {
        const found = await Promise.all(keys.map(async (k) => (await one.get(k)) !== undefined));
        assert.deepEqual(found, keys.map((k) => store.serverFor(k) === names[i]));
      }
    } finally {
      await Promise.all([store, ...alone].map((s) => s.close()));
    }
  });

  test('removing a server moves only its keys', async () => {
    const names = servers.map((s) => s.server);
    const three = new MemcachedStore({ servers: names });
    const two = new MemcachedStore({ servers: [names[0]!, names[2]!] });
    try {
      for (const k of keys) {
        if (three.serverFor(k) !== names[1]) assert.equal(two.serverFor(k), three.serverFor(k), k);
      }
      const movedTo = new Set(keys.filter((k) => three.serverFor(k) === names[1]).map((k) => two.serverFor(k)));
      assert.deepEqual([...movedTo].sort(), [names[0], names[2]].sort());
    } finally {
      await Promise.all([three.close(), two.close()]);
    }
  });
});
