/**
 * One limit across several processes: two Fulcrum instances sharing a real redis-server (and what happens when it
 * dies and comes back), and one instance with two workers whose primary holds the counters.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { sample, scrape } from '../support/client.ts';
import { eventually, spawnFulcrum, startFulcrum, testConfig, type InProcessFulcrum, type SpawnedFulcrum } from '../support/fulcrum.ts';
import { askOn, connectFrom, getFrom } from '../support/limits.ts';
import { startRedis, type TestRedis } from '../support/redis.ts';

let backend: TestBackend;
before(async () => (backend = await startBackend('origin')));
after(() => backend.close());

describe('rate limits shared through Redis', () => {
  let redis: TestRedis;
  let a: InProcessFulcrum;
  let b: InProcessFulcrum;

  before(async () => {
    redis = await startRedis();
    const config = () => ({
      // The cache in Redis: `rate_limit.store: auto` shares the counters there too.
      cache: { store: 'redis' as const, redis: { url: redis.url, key_prefix: 'rl-test:' } },
      pools: { web: { backends: [{ url: backend.url }] } },
      routes: [{ match: {}, pool: 'web', rate_limit: { name: 'shared', rate: '4/1m', key: 'route' } }],
    });
    [a, b] = await Promise.all([startFulcrum(config()), startFulcrum(config())]);
    // Decisions never wait for a connection: wait here until both instances decide through Redis.
    await eventually(async () => (sample(await scrape(a.adminUrl), 'fulcrum_rate_limit_fallbacks_total') ?? 0) === 0, 5000);
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  const statusOf = async (f: InProcessFulcrum, path = '/') => (await getFrom(`${f.url}${path}`)).status;
  const fallbacks = async (f: InProcessFulcrum) => sample(await scrape(f.adminUrl), 'fulcrum_rate_limit_fallbacks_total') ?? 0;

  test('two instances enforce one limit: the burst is spent across both, then both answer 429', async () => {
    await eventually(async () => (await Promise.all([fallbacks(a), fallbacks(b)])).every((n) => n === 0), 5000, 'both connected');
    const statuses = [await statusOf(a), await statusOf(b), await statusOf(a), await statusOf(b), await statusOf(a), await statusOf(b)];
    assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
    assert.equal(await fallbacks(a), 0);
    assert.equal(await fallbacks(b), 0);
  });

  test('with Redis dead, traffic keeps flowing under each instance\'s own limit, and the fallback is counted and logged', async () => {
    await redis.kill();
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await statusOf(a));
    assert.deepEqual(statuses, [200, 200, 200, 200, 429], 'the local limiter: a fresh burst of 4, then 429');
    assert.equal(await statusOf(b), 200, 'b counts on its own');
    assert.ok((await fallbacks(a)) >= 5);
    await eventually(() => a.logs.some((l) => l.msg?.includes('rate limit store unreachable') === true), 8000, 'the log line');
  });

  test('once Redis is back, the instances share their counters again', async () => {
    await redis.restart();
    // Reconnection is ioredis's (backoff up to 2 s): wait until a request is decided without a fallback.
    for (const f of [a, b]) {
      await eventually(async () => {
        const before = await fallbacks(f);
        await statusOf(f, '/probe');
        return (await fallbacks(f)) === before;
      }, 10_000, 'reconnected');
    }
    // The probes took some of the fresh counter; spend the rest alternately, then both refuse.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push(await statusOf(i % 2 === 0 ? a : b));
    assert.equal(statuses.filter((s) => s === 200).length <= 4 - 2, true, String(statuses));
    assert.deepEqual(statuses.slice(-2), [429, 429]);
  });
});

describe('rate and connection limits with two workers', () => {
  let f: SpawnedFulcrum;

  before(async () => {
    f = await spawnFulcrum(
      testConfig({
        workers: 2,
        limits: { max_connections_per_ip: 2 },
        pools: { web: { backends: [{ url: backend.url }] } },
        routes: [{ match: { path_prefix: '/limited/' }, pool: 'web', rate_limit: { name: 'instance', rate: '5/1m', key: 'route' } }, { match: {}, pool: 'web' }],
      }),
    );
  });
  after(() => f?.stop());

  test('the workers enforce one limit for the instance, not one each', async () => {
    // Each request on its own connection: the primary hands connections to the workers in turn.
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => getFrom(`${f.url}/limited/${i}`, { from: `127.0.1.${i + 1}` }).then((r) => r.status)));
    assert.equal(statuses.filter((s) => s === 200).length, 5, String(statuses));
    assert.equal(statuses.filter((s) => s === 429).length, 7);
  });

  test('connections per address are counted for the instance: a third from one address is closed, whichever worker takes it', async () => {
    const held = [await connectFrom(Number(new URL(f.url).port), '127.0.2.1'), await connectFrom(Number(new URL(f.url).port), '127.0.2.1')];
    assert.deepEqual([await askOn(held[0]!), await askOn(held[1]!)], [200, 200]);
    for (let i = 0; i < 4; i++) {
      const extra = await connectFrom(Number(new URL(f.url).port), '127.0.2.1');
      assert.equal(await askOn(extra), 'closed', `extra connection ${i}`);
    }
    const other = await connectFrom(Number(new URL(f.url).port), '127.0.2.2');
    assert.equal(await askOn(other), 200);
    other.destroy();
    held[0]!.destroy();
    await eventually(async () => {
      const again = await connectFrom(Number(new URL(f.url).port), '127.0.2.1');
      const answer = await askOn(again);
      again.destroy();
      return answer === 200;
    }, 5000, 'a slot freed by the close');
    held[1]!.destroy();
  });
});
