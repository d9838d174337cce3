/** GET /api/cache: the cache's figures and its most hit URLs and tags, counted as the proxy serves from the cache. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { eventually } from '../support/eventually.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

interface Top {
  name: string;
  count: number;
}
interface CacheBody {
  hits: number;
  topUrls: Top[];
  topTags: Top[];
}

let backend: TestBackend;
let fulcrum: InProcessFulcrum;
/** Surrogate keys (tags) the backend sends, per path. */
const TAGS: Record<string, string> = { '/top-a': 'red blue', '/top-b': 'blue', '/top-c': 'green' };

before(async () => {
  backend = await startBackend('origin');
  backend.handle((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60', 'surrogate-key': TAGS[path] ?? '' });
    res.end(`body of ${path}`);
  });
  fulcrum = await startFulcrum({
    admin: { listen: '127.0.0.1:0' },
    pools: { p: { backends: [{ url: backend.url }], retries: { attempts: 0 } } },
    routes: [{ match: {}, pool: 'p', cache: { ttl: '60s' } }],
  });
});

after(async () => {
  await fulcrum.stop();
  await backend.close();
});

async function cacheFigures(): Promise<CacheBody> {
  const res = await fetch(`${fulcrum.adminUrl}/api/cache`);
  assert.equal(res.status, 200);
  return (await res.json()) as CacheBody;
}

describe('GET /api/cache', () => {
  test('answers without a token, before any traffic, with empty top lists', async () => {
    const body = await cacheFigures();
    assert.equal(body.hits, 0);
    assert.deepEqual(body.topUrls, []);
    assert.deepEqual(body.topTags, []);
  });

  test('lists the most hit URLs in order, and each tag counted once per hit on an entry carrying it', async () => {
    // One miss each (stores), then 4, 2 and 1 hits.
    const plan: Array<[string, number]> = [['/top-a', 5], ['/top-b', 3], ['/top-c', 2]];
    for (const [path, times] of plan) {
      for (let i = 0; i < times; i++) {
        const res = await fetch(`${fulcrum.url}${path}`);
        await res.text();
      }
    }
    assert.equal(backend.requests.length, 3, 'each path reached the backend once');
    let body: CacheBody | undefined;
    await eventually(async () => (body = await cacheFigures()).hits === 7, 5000, 'the hits in the snapshot');
    const urls = body!.topUrls.map(({ name, count }) => [name.slice(name.indexOf('/')), count]);
    assert.deepEqual(urls, [['/top-a', 4], ['/top-b', 2], ['/top-c', 1]]);
    assert.ok(body!.topUrls.every((u) => !u.name.includes('://')), 'URLs as purges name them: no scheme');
    assert.deepEqual(body!.topTags, [
      { name: 'blue', count: 6 },
      { name: 'red', count: 4 },
      { name: 'green', count: 1 },
    ]);
  });
});
