/**
 * The contract every rate limit store keeps (src/limits/store.ts), run against each: this process's memory, a real
 * redis-server through the Lua script, and the cluster primary's counters over the worker protocol (ipc.ts). Each
 * must decide exactly as gcra.ts does, on an injected clock. Never skipped.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gcra, type Decision, type GcraPolicy } from '../../src/limits/gcra.ts';
import { LimitsHub, PrimaryLimits } from '../../src/limits/ipc.ts';
import { MemoryLimiterStore } from '../../src/limits/memory-store.ts';
import { RedisLimiterStore } from '../../src/limits/redis-store.ts';
import type { LimiterStore } from '../../src/limits/store.ts';
import { LimitStats } from '../../src/observability/limit-stats.ts';
import { seededRandom } from '../../src/time.ts';
import { ManualClock } from '../../test/support/fake-time.ts';
import { startRedis } from '../support/redis.ts';

interface Fixture {
  readonly store: LimiterStore;
  readonly clock: ManualClock;
  /** Decisions the store did not take itself (Redis's fallbacks): the contract expects none. */
  fallbacks(): number;
  close(): Promise<void>;
}

/** An epoch-like start, so that Redis stores numbers as large as real ones. */
const START = 1_790_000_000_000.25;

const STORES: Record<string, () => Promise<Fixture>> = {
  async memory() {
    const clock = new ManualClock(START);
    const store = new MemoryLimiterStore(clock, 10_000);
    return { store, clock, fallbacks: () => 0, close: () => store.close() };
  },
  async redis() {
    const redis = await startRedis();
    const clock = new ManualClock(START);
    const stats = new LimitStats(clock);
    const store = new RedisLimiterStore({ url: redis.url, keyPrefix: 'contract:', timeoutMs: 2000, local: new MemoryLimiterStore(clock, 10), stats, clock });
    assert.ok(await store.ready(), 'connected to redis-server');
    return { store, clock, fallbacks: () => stats.fallbacks, close: async () => (await store.close(), await redis.stop()) };
  },
  async 'cluster primary'() {
    const clock = new ManualClock(START);
    const hub = new LimitsHub(clock, 10_000, { maxTotal: 0, maxPerIp: 0 });
    // The IPC channel, without the processes: each batch answered on a later turn, as a message would be.
    const worker: PrimaryLimits = new PrimaryLimits((msg) => {
      const answer = hub.handle(1, structuredClone(msg));
      if (answer !== undefined) setImmediate(() => worker.answered(structuredClone(answer)));
    }, clock);
    return { store: worker.store, clock, fallbacks: () => worker.failedOpen, close: async () => (await worker.store.close(), await hub.close()) };
  },
};

for (const [name, make] of Object.entries(STORES)) {
  describe(`limiter store contract: ${name}`, () => {
    let f: Fixture;
    before(async () => (f = await make()));
    after(() => f.close());
    const take = async (key: string, policy: GcraPolicy) => await f.store.take(key, policy);

    test('a burst is allowed, then the next request is refused with the time until one more fits', async () => {
      const policy = { intervalMs: 500, burst: 3 };
      const seen = [];
      for (let i = 0; i < 4; i++) seen.push(await take('burst', policy));
      assert.deepEqual(seen.map((d) => [d.allowed, d.remaining]), [[true, 2], [true, 1], [true, 0], [false, 0]]);
      assert.ok(Math.abs(seen[3]!.retryAfterMs - 500) < 0.01, String(seen[3]!.retryAfterMs));
      f.clock.advance(499);
      assert.equal((await take('burst', policy)).allowed, false);
      f.clock.advance(1);
      assert.equal((await take('burst', policy)).allowed, true);
    });

    test('keys are counted apart', async () => {
      const policy = { intervalMs: 60_000, burst: 1 };
      assert.equal((await take('a:@192.0.2.1', policy)).allowed, true);
      assert.equal((await take('a:@192.0.2.2', policy)).allowed, true);
      assert.equal((await take('b:@192.0.2.1', policy)).allowed, true);
      assert.equal((await take('a:@192.0.2.1', policy)).allowed, false);
    });

    test('an interval that is not a whole number of ms still fits the whole burst', async () => {
      const policy = { intervalMs: 1000 / 3, burst: 3 };
      const allowed = [];
      for (let i = 0; i < 4; i++) allowed.push((await take('thirds', policy)).allowed);
      assert.deepEqual(allowed, [true, true, true, false]);
    });

    test('a random schedule of requests gets the decisions gcra.ts takes', async () => {
      const random = seededRandom(7);
      const policy = { intervalMs: 40, burst: 4 };
      let tat: number | undefined;
      for (let i = 0; i < 300; i++) {
        f.clock.advance(Math.floor(random.next() * 60));
        const next = gcra(tat, f.clock.now(), policy);
        const expected: Decision = next.decision;
        tat = next.tat;
        const got = await take('random', policy);
        assert.equal(got.allowed, expected.allowed, `request ${i}`);
        assert.equal(got.remaining, expected.remaining, `request ${i}`);
        assert.ok(Math.abs(got.retryAfterMs - expected.retryAfterMs) < 0.01, `request ${i}: retry ${got.retryAfterMs} vs ${expected.retryAfterMs}`);
        assert.ok(Math.abs(got.resetMs - expected.resetMs) < 0.01, `request ${i}: reset ${got.resetMs} vs ${expected.resetMs}`);
      }
      assert.equal(f.fallbacks(), 0);
    });
  });
}
