/** The cache shared through Redis and Memcached by several Fulcrum processes, and what happens when a store dies. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { sample, scrape } from '../support/client.ts';
import { eventually } from '../support/eventually.ts';
import { spawnFulcrum, testConfig, type SpawnedFulcrum } from '../support/fulcrum.ts';
import { runLoad } from '../support/load.ts';
import { startMemcached, type TestMemcached } from '../support/memcached.ts';
import { startRedis, type TestRedis } from '../support/redis.ts';
import type { ConfigInput } from '../../src/config/schema.ts';

const TOKEN = 'shared-cache-admin-token';
let backend: TestBackend;
let redis: TestRedis;
let memcached: TestMemcached;
const fulcrums: SpawnedFulcrum[] = [];

before(async () => {
  [backend, redis, memcached] = await Promise.all([startBackend('origin'), startRedis(), startMemcached()]);
  backend.handle((req, res) => {
    const tag = (req.url ?? '').includes('/red/') ? 'red' : 'blue';
    res.writeHead(200, { 'cache-control': 'max-age=300', 'surrogate-key': tag, 'content-type': 'text/plain' });
    res.end(`${req.url} #${backend.count()}`);
  });
});

after(async () => {
  for (const f of fulcrums) await f.stop();
  await Promise.all([backend.close(), redis.stop(), memcached.stop()]);
});

function configWith(cache: ConfigInput['cache']): ConfigInput {
  return testConfig({
    workers: 1,
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    cache,
    pools: { p: { backends: [{ url: backend.url }] } },
    routes: [{ match: {}, pool: 'p', cache: {} }],
  });
}

async function start(cache: ConfigInput['cache']): Promise<SpawnedFulcrum> {
  const f = await spawnFulcrum(configWith(cache));
  fulcrums.push(f);
  return f;
}

const hits = (path: string) => backend.requests.filter((r) => r.url === path).length;

/**
 * A GET through one instance with the Host every instance is reached by (the public one, behind a balancer):
 * the Host with its port is part of the key (issue 13 #8), and each instance here listens on its own port.
 */
function get(f: SpawnedFulcrum, path: string): Promise<{ cacheStatus: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${f.url}${path}`, { agent: false, headers: { host: 'shop.example' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ cacheStatus: String(res.headers['cache-status'] ?? '') }));
      })
      .on('error', reject);
  });
}

async function purge(f: SpawnedFulcrum, body: unknown): Promise<number> {
  const res = await fetch(`${f.adminUrl}/api/cache/purge`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
  return res.status;
}

for (const store of ['redis', 'memcached'] as const) {
  describe(`two Fulcrum processes sharing ${store}`, () => {
    test('a response stored through one is a hit through the other, and a purge by tag on one reaches both', async () => {
      const cache: ConfigInput['cache'] =
        store === 'redis'
          ? // With a first tier in memory, which the purge must reach as well.
            { store, l1_max_size: '1mb', redis: { url: `redis://127.0.0.1:${redis.port}`, key_prefix: `t-${Date.now()}:` } }
          : { store, memcached: { servers: [`127.0.0.1:${memcached.port}`], key_prefix: `t${Date.now()}:` } };
      const [a, b] = [await start(cache), await start(cache)];
      const red = [`/${store}/red/1`, `/${store}/red/2`];
      const blue = `/${store}/blue/1`;
      for (const p of [...red, blue]) await get(a, p);
      for (const p of [...red, blue]) {
        assert.match((await get(b, p)).cacheStatus, /hit/, `${p} through b`);
        assert.equal(hits(p), 1, p);
      }
      assert.equal(await purge(a, { tag: 'red' }), 202);
      // The purge reaches b (Redis pub/sub, or memcached's polled purge list) within a moment.
      await eventually(async () => !/hit/.test((await get(b, red[0]!)).cacheStatus), 3000, 'the purge to reach b');
      for (const p of red) await get(b, p);
      for (const p of red) assert.equal(hits(p), 2, `${p} purged`);
      assert.match((await get(a, blue)).cacheStatus, /hit/, 'an entry without the tag stays');
    });
  });
}

describe('workers sharing a port', () => {
  test('with two workers and the memory store, a purge reaches the cache of each worker', async () => {
    const f = await spawnFulcrum({ ...configWith({ store: 'memory' }), workers: 2 });
    fulcrums.push(f);
    const path = '/workers/blue/1';
    // A new connection per request, so that the primary hands them to both workers in turn.
    const once = () =>
      new Promise<string>((resolve, reject) => {
        http
          .get(`${f.url}${path}`, { agent: false }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      });
    const bodies = async () => {
      const out: string[] = [];
      for (let i = 0; i < 20; i++) out.push(await once());
      return out;
    };
    const before = await bodies();
    assert.equal(new Set(before).size, 2, `each worker stored its own copy: ${[...new Set(before)].join(' | ')}`);
    assert.equal(await purge(f, { tag: 'blue' }), 202);
    // The primary tells the workers over IPC: soon, each serves a copy stored after the purge.
    const old = new Set(before);
    let after: string[] = [];
    await eventually(async () => (after = await bodies()).every((b) => !old.has(b)), 5000, 'no worker to serve what was purged');
    assert.equal(new Set(after).size, 2, `both workers answered: ${[...new Set(after)].join(' | ')}`);
  });
});

describe('a store that dies', () => {
  test('Redis killed mid-run causes no client error, and the cache works again once it is back', async () => {
    const f = await start({ store: 'redis', redis: { url: `redis://127.0.0.1:${redis.port}`, key_prefix: `k-${Date.now()}:`, timeout: '100ms' } });
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const load = runLoad({ url: `${f.url}/`, concurrency: 8, until: stopped, maxMs: 15_000, path: (i) => `/dies/${i % 20}` });
    const metric = async (name: string) => sample(await scrape(f.adminUrl), name) ?? 0;
    const served = () => metric('fulcrum_http_requests_total');
    const atStart = await served();
    await eventually(async () => (await served()) > atStart + 50, 5000, 'the load to run, through the cache');
    await redis.kill();
    const atKill = await served();
    await eventually(async () => (await metric('fulcrum_cache_store_errors_total')) > 0, 5000, 'the store errors to be counted');
    await eventually(async () => (await served()) > atKill + 50, 5000, 'requests served while the store is dead');
    await redis.restart();
    // Back: a new entry is stored and then hit (the store reconnects by itself), with the load still running.
    await eventually(
      async () => {
        const path = `/after-restart-${Date.now()}`;
        await (await fetch(`${f.url}${path}`)).text();
        const again = await fetch(`${f.url}${path}`);
        await again.text();
        return /hit/.test(again.headers.get('cache-status') ?? '');
      },
      5000,
      'the cache to work again',
    );
    stop();
    const result = await load;
    assert.deepEqual(result.errors, []);
    assert.equal(result.ok(), result.sent, JSON.stringify([...result.statuses]));
  });
});
