/**
 * The Python stack of examples/python, for real: the catalogue service on FastAPI (uvicorn), Flask and Django with
 * the companion, behind a Fulcrum started as the command from the example's own config (its balancing, health
 * checks, routes and Redis cache), with only addresses changed to free loopback ports.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import type { ConfigInput } from '../../src/config/schema.ts';
import { pools, rawExchange, request } from '../support/client.ts';
import { eventually } from '../support/eventually.ts';
import { spawnFulcrum, type SpawnedFulcrum } from '../support/fulcrum.ts';
import { runLoad } from '../support/load.ts';
import { EXAMPLES, startPython, type Framework, type PythonInstance } from '../support/python.ts';
import { startRedis, type TestRedis } from '../support/redis.ts';

const TOKEN = 'python-stack-admin-token-0123';
const FRAMEWORKS: readonly Framework[] = ['fastapi', 'flask', 'django'];

let redis: TestRedis;
let instances: PythonInstance[];
let fulcrum: SpawnedFulcrum;

/** The example's config, pointed at this test's instances, Redis and free ports. */
async function stackConfig(): Promise<ConfigInput> {
  const config = parse(await readFile(`${EXAMPLES}fulcrum.yaml`, 'utf8')) as ConfigInput & {
    pools: { catalogue: { backends: Array<{ url: string }> } };
  };
  assert.equal(config.pools.catalogue.backends.length, 3, 'the example has three instances');
  return {
    ...config,
    listen: '127.0.0.1:0',
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    workers: 1,
    cache: { ...config.cache, redis: { url: redis.url } },
    pools: { catalogue: { ...config.pools.catalogue, backends: instances.map((i) => ({ url: i.url })) } },
  };
}

before(async () => {
  redis = await startRedis();
  instances = await Promise.all(FRAMEWORKS.map((f) => startPython(f)));
  fulcrum = await spawnFulcrum(await stackConfig());
  await eventually(async () => (await healthyBackends()) === 3, 10_000, 'three healthy instances');
});

after(async () => {
  await fulcrum?.stop();
  await Promise.all((instances ?? []).map((i) => i.kill()));
  await redis?.stop();
});

async function healthyBackends(): Promise<number> {
  const [pool] = await pools(fulcrum.adminUrl);
  return pool!.backends.filter((b) => b.state === 'healthy').length;
}

/** Which instance served each of `n` requests to /api/ping through Fulcrum, counted by X-Served-By. */
async function servedBy(n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const reply = await request(`${fulcrum.url}/api/ping`);
    assert.equal(reply.status, 200, reply.text);
    const name = String(reply.headers['x-served-by']);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

function admin(method: string, path: string, body?: unknown) {
  return fetch(`${fulcrum.adminUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('Python services behind Fulcrum (examples/python)', () => {
  test('the three versions of the catalogue answer alike: caching headers, conditional reads, errors, the load report', async () => {
    const etags = new Set<string>();
    for (const instance of instances) {
      const read = await request(`${instance.url}/api/products/3`);
      assert.equal(read.status, 200, instance.name);
      assert.equal(read.headers['cache-control'], 'public, max-age=60, stale-while-revalidate=30');
      assert.equal(read.headers['surrogate-key'], 'catalogue product-3 category-kitchen');
      assert.match(String(read.headers['x-fulcrum-load']), /^inflight=1, utilization=0\.12$/);
      assert.equal((JSON.parse(read.text) as { name: string }).name, "Chef's knife");
      etags.add(String(read.headers.etag));
      const revalidated = await request(`${instance.url}/api/products/3`, { headers: { 'if-none-match': String(read.headers.etag) } });
      assert.equal(revalidated.status, 304, instance.name);
      assert.equal(revalidated.headers['content-type'], undefined, `${instance.name}: a 304 must not restate the type of the stored JSON`);
      // HEAD: the GET's head without its body, also on a kept-alive connection (stray bytes would poison the next response).
      const pair = await rawExchange(
        instance.port,
        'HEAD /api/products/3 HTTP/1.1\r\nHost: catalogue\r\n\r\nGET /api/ping HTTP/1.1\r\nHost: catalogue\r\nConnection: close\r\n\r\n',
      );
      const heads = pair.split(/(?=HTTP\/1\.[01] )/);
      assert.match(heads[0]!, /^HTTP\/1\.[01] 200 [^]*\r\n\r\n$/, `${instance.name}: HEAD without a body`);
      // Werkzeug closes every connection after one response; the others keep it and answer the GET.
      const closes = /\r\nconnection: close\r\n/i.test(heads[0]!);
      assert.equal(heads.length, closes ? 1 : 2, `${instance.name}: HEAD then GET:\n${pair}`);
      if (!closes) assert.match(heads[1]!, /^HTTP\/1\.[01] 200 [^]*"instance"/, instance.name);
      const missing = await request(`${instance.url}/api/products/99`);
      assert.deepEqual([missing.status, missing.headers['cache-control']], [404, 'no-store'], instance.name);
      const badOrder = await request(`${instance.url}/api/orders`, { method: 'POST', body: '{"product_id": "x"}' });
      assert.equal(badOrder.status, 400, instance.name);
      assert.equal((await request(`${instance.url}/healthz/ready`)).status, 200, instance.name);
    }
    assert.equal(etags.size, 1, `one ETag for one representation: ${[...etags]}`);
  });

  test('traffic spreads across the FastAPI, Flask and Django instances', async () => {
    const counts = await servedBy(60);
    for (const instance of instances) {
      assert.ok((counts.get(instance.name) ?? 0) >= 8, `${instance.name} served ${counts.get(instance.name) ?? 0} of 60: ${[...counts]}`);
    }
  });

  test('a cacheable read is served from the Redis cache after the first request, and purged by its tag', async () => {
    const read = (id: number) => request(`${fulcrum.url}/api/products/${id}`);
    const first = await read(4);
    assert.equal(first.status, 200);
    assert.match(String(first.headers['cache-status']), /fwd=uri-miss.*stored/);
    assert.equal(first.headers['surrogate-key'], 'catalogue product-4 category-kitchen');
    const second = await read(4);
    assert.match(String(second.headers['cache-status']), /; hit/);
    assert.equal(second.text, first.text, 'the stored body, not a new one');
    assert.deepEqual([first.headers['x-fulcrum-load'], second.headers['x-fulcrum-load']], [undefined, undefined], 'the load report is for Fulcrum only');
    assert.match(String((await read(5)).headers['cache-status']), /stored/);

    const purge = await admin('POST', '/api/cache/purge', { tag: 'product-4' });
    assert.equal(purge.status, 202, await purge.text()); // accepted: it reaches every worker (and instance) by the purge bus

    let third = first;
    await eventually(async () => /fwd=uri-miss/.test(String((third = await read(4)).headers['cache-status'])), 1000, 'the purge');
    assert.notEqual(third.text, first.text, 'a fresh body from an instance (served_at moved on)');
    assert.match(String((await read(5)).headers['cache-status']), /; hit/, 'another tag is untouched');
  });

  test('an instance that reports itself busy receives measurably less traffic than its idle peers', async () => {
    // Busy for real: six slow requests kept in flight on it directly, which Fulcrum does not see. Only its load
    // report (X-Fulcrum-Load) tells Fulcrum, whose own view (its in-flight, the fast answers) says idle.
    const busy = instances[0]!;
    let measuring = true;
    const keepBusy = async () => {
      while (measuring) await request(`${busy.url}/api/slow?ms=500`, { headers: { connection: 'close' } });
    };
    const slow = Array.from({ length: 6 }, keepBusy);
    try {
      await eventually(async () => (await request(`${busy.url}/api/ping`)).headers['x-fulcrum-load']!.includes('inflight=7'), 3000, 'busy');
      const counts = await servedBy(90);
      const busyShare = counts.get(busy.name) ?? 0;
      const peers = instances.slice(1).map((i) => counts.get(i.name) ?? 0);
      assert.ok(busyShare * 4 < Math.min(...peers), `busy ${busy.name} served ${busyShare}, its idle peers ${peers}`);
      console.log(`# least-load: of 90 requests the busy instance served ${busyShare}, its idle peers ${peers.join(' and ')}`);
    } finally {
      measuring = false;
      await Promise.all(slow);
    }
  });

  test('a self-registered instance receives traffic within two seconds, and is removed after its TTL when killed', async () => {
    const joiner = await startPython('flask', {
      name: 'flask-registered',
      args: ['--register', fulcrum.adminUrl, '--pool', 'catalogue', '--heartbeat', '0.5'],
      env: { FULCRUM_ADMIN_TOKEN: TOKEN },
    });
    try {
      await eventually(async () => (await servedBy(6)).has(joiner.name), 2000, 'traffic to the registered instance');
      const joinedMs = Date.now() - joiner.listeningAt;
      const [pool] = await pools(fulcrum.adminUrl);
      assert.ok(pool!.backends.some((b) => b.id === joiner.url), 'listed in the API like a configured backend');

      await joiner.kill();
      const killedAt = Date.now();
      await eventually(async () => !(await pools(fulcrum.adminUrl))[0]!.backends.some((b) => b.id === joiner.url), 5000, 'removal');
      const removedMs = Date.now() - killedAt;
      // TTL: three heartbeats of 0.5 s, counted from the last one, which came at most 0.5 s before the kill.
      assert.ok(removedMs >= 900 && removedMs <= 3000, `removed ${removedMs} ms after SIGKILL (TTL 1.5 s)`);
      assert.ok(!(await servedBy(9)).has(joiner.name));
      console.log(`# self-registration: traffic ${joinedMs} ms after listening, removed ${removedMs} ms after SIGKILL`);
    } finally {
      await joiner.kill();
    }
  });

  test('a self-registered instance stopped with SIGTERM leaves the pool at once, and no request fails', async () => {
    // A long TTL (three heartbeats of 5 s): only its own deregistration can take it out this soon.
    const leaver = await startPython('fastapi', {
      name: 'fastapi-leaving',
      // Its deregistration takes it out at once, so the notice for the health check can be short.
      args: ['--register', fulcrum.adminUrl, '--pool', 'catalogue', '--heartbeat', '5', '--drain-notice', '0.5'],
      env: { FULCRUM_ADMIN_TOKEN: TOKEN },
    });
    let finish!: () => void;
    const load = runLoad({ url: `${fulcrum.url}/api/slow?ms=50`, concurrency: 3, until: new Promise<void>((r) => (finish = r)), maxMs: 20_000 });
    try {
      await eventually(async () => (await servedBy(6)).has(leaver.name), 2000, 'traffic to the registered instance');
      const stopped = leaver.stop();
      const signalledAt = Date.now();
      await eventually(async () => !(await pools(fulcrum.adminUrl))[0]!.backends.some((b) => b.id === leaver.url), 2000, 'deregistration');
      console.log(`# self-registration: left the pool ${Date.now() - signalledAt} ms after SIGTERM`);
      await stopped;
    } finally {
      finish();
      await leaver.kill();
    }
    const result = await load;
    assert.ok(result.sent > 10);
    assert.deepEqual([result.failed(), result.errors], [0, []]);
  });

  test('killing an instance under load fails no read; started again, it is back after one probe', async () => {
    let finish!: () => void;
    const load = runLoad({ url: `${fulcrum.url}/api/slow?ms=20`, concurrency: 4, until: new Promise<void>((r) => (finish = r)), maxMs: 30_000 });
    const victim = instances[1]!;
    try {
      await victim.kill(); // a crash: requests in flight on it are cut, and retried elsewhere (GET is idempotent)
      await eventually(async () => (await healthyBackends()) === 2, 5000, `${victim.name} taken out`);
      const again = await startPython(victim.framework, { port: victim.port, name: `${victim.framework}:${victim.port}#restarted` });
      instances[1] = again;
      const startedAt = Date.now();
      await eventually(async () => (await servedBy(9)).has(again.name), 5000, 'traffic to the restarted instance');
      console.log(`# kill one: back in traffic ${Date.now() - startedAt} ms after it listened again`);
    } finally {
      finish();
    }
    const result = await load;
    assert.ok(result.sent > 20, `only ${result.sent} requests sent: ${[...result.statuses]} ${result.errors}`);
    assert.deepEqual([result.failed(), result.errors], [0, []]);
  });

  test('a rolling restart of the three instances under steady load fails no request', { timeout: 90_000 }, async () => {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    // Bounded: five clients, until the restart is over or 60 s. Reads, fast and slow, and orders: a POST with a
    // body is never retried, so one cut off by an instance that stops without draining is a failure here.
    const common = { url: fulcrum.url, until: finished, maxMs: 60_000 };
    const loads = [
      runLoad({ ...common, concurrency: 3, path: (i) => (i % 3 === 0 ? '/api/slow?ms=150' : '/api/ping') }),
      runLoad({ ...common, concurrency: 2, method: 'POST', path: () => '/api/orders', body: (i) => JSON.stringify({ product_id: 1 + (i % 10) }) }),
    ];
    const restarted: PythonInstance[] = [];
    try {
      for (const [i, old] of instances.entries()) {
        await old.stop(); // the companion: not ready, keeps serving through the notice, drains, exits
        const fresh = await startPython(old.framework, { port: old.port, name: `${old.framework}:${old.port}#2` });
        restarted.push(fresh);
        instances[i] = fresh;
        await eventually(async () => (await healthyBackends()) === 3, 10_000, `${fresh.name} healthy again`);
      }
      await eventually(async () => {
        const seen = await servedBy(9);
        return restarted.every((r) => seen.has(r.name));
      }, 5000, 'traffic to every restarted instance');
    } finally {
      finish();
    }
    const [reads, orders] = await Promise.all(loads);
    for (const result of [reads!, orders!]) {
      assert.ok(result.sent > 50, `only ${result.sent} requests sent`);
      assert.deepEqual(result.errors, []);
      assert.equal(result.failed(), 0, `failed: ${[...result.statuses].filter(([s]) => s >= 300)}`);
    }
    console.log(`# rolling restart: ${reads!.sent} reads and ${orders!.sent} orders, none failed`);
  });
});
