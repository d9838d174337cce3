import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startBackends, type TestBackend } from '../support/backend.ts';
import { eventually } from '../support/eventually.ts';
import { spawnFulcrum, testConfig, type SpawnedFulcrum } from '../support/fulcrum.ts';
import { runLoad } from '../support/load.ts';
import type { ConfigInput } from '../../src/config/schema.ts';

const backends: TestBackend[] = [];
const fulcrums: SpawnedFulcrum[] = [];
after(async () => {
  for (const f of fulcrums) await f.stop();
  for (const b of backends) await b.close();
});

function configOver(urls: string[], extra: Partial<ConfigInput> = {}): ConfigInput {
  return testConfig({ pools: { p: { algorithm: 'round-robin', backends: urls.map((url) => ({ url })) } }, ...extra });
}

async function namesServed(f: SpawnedFulcrum, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add(await (await fetch(`${f.url}/`)).text());
  return seen;
}

interface PoolView {
  backends: Array<{ id: string; state: string; requests: number }>;
}

describe('reload', () => {
  test('a bad config is refused with its problems logged, and the old config keeps serving', async () => {
    const bs = await startBackends(2);
    backends.push(...bs);
    const f = await spawnFulcrum(configOver([bs[0]!.url]));
    fulcrums.push(f);
    assert.deepEqual(await namesServed(f, 3), new Set([bs[0]!.name]));
    await f.writeConfig({ ...configOver([bs[1]!.url]), pools: { p: { backends: [{ url: 'htp://nope' }] } } } as ConfigInput);
    await eventually(() => f.output().includes('config rejected'), 5000, 'the rejection to be logged');
    assert.match(f.output(), /pools\.p\.backends\[0\]\.url: not a valid URL/);
    assert.deepEqual(await namesServed(f, 3), new Set([bs[0]!.name]));
    const events = (await (await fetch(`${f.adminUrl}/api/events`)).json()) as Array<{ type: string }>;
    assert.ok(events.some((e) => e.type === 'config-rejected'));
  });

  test('SIGHUP reloads a good config: new backends take traffic, and unchanged ones keep their statistics', async () => {
    const bs = await startBackends(2);
    backends.push(...bs);
    const f = await spawnFulcrum(configOver([bs[0]!.url]));
    fulcrums.push(f);
    await namesServed(f, 5);
    await f.writeConfig(configOver([bs[0]!.url, bs[1]!.url]));
    f.child.kill('SIGHUP');
    await eventually(async () => (await namesServed(f, 4)).size === 2, 5000, 'both backends to serve');
    const [pool] = (await (await fetch(`${f.adminUrl}/api/pools`)).json()) as PoolView[];
    const kept = pool!.backends.find((b) => b.id === bs[0]!.url)!;
    assert.ok(kept.requests >= 5, `the unchanged backend kept its count (${kept.requests})`);
  });

  test('a reload keeps the health state of backends that did not change', async () => {
    const bs = await startBackends(2);
    backends.push(...bs);
    bs[1]!.healthStatus = 503;
    const health = { active: { path: '/healthz', interval: '50ms', timeout: '500ms', healthy: 2, unhealthy: 2 } };
    const withHealth = (urls: string[]) =>
      testConfig({ pools: { p: { backends: urls.map((url) => ({ url })), health } } });
    const f = await spawnFulcrum(withHealth([bs[0]!.url, bs[1]!.url]));
    fulcrums.push(f);
    const stateOf = async (id: string) => {
      const [pool] = (await (await fetch(`${f.adminUrl}/api/pools`)).json()) as PoolView[];
      return pool!.backends.find((b) => b.id === id)?.state;
    };
    await eventually(async () => (await stateOf(bs[1]!.url)) === 'unhealthy', 5000, 'the failing backend to be unhealthy');
    // A reload that changes something else (the log level) must not reset it to healthy.
    await f.writeConfig({ ...withHealth([bs[0]!.url, bs[1]!.url]), log: { level: 'warn', access: false } });
    f.child.kill('SIGHUP');
    await eventually(() => f.output().includes('config reloaded'), 5000, 'the reload');
    assert.equal(await stateOf(bs[1]!.url), 'unhealthy');
    assert.deepEqual(await namesServed(f, 6), new Set([bs[0]!.name]));
  });

  test('reloads under load, each moving traffic to another backend, drop no request', async () => {
    const bs = await startBackends(3);
    backends.push(...bs);
    for (const b of bs) b.delay = 2;
    const f = await spawnFulcrum(configOver([bs[0]!.url, bs[1]!.url], { workers: 2 }));
    fulcrums.push(f);
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const load = runLoad({ url: `${f.url}/x`, concurrency: 24, until: finished, maxMs: 20_000 });
    const sets = [
      [bs[1]!.url, bs[2]!.url],
      [bs[2]!.url, bs[0]!.url],
      [bs[0]!.url, bs[1]!.url],
      [bs[2]!.url],
    ];
    // Each reload comes once requests have flowed on the config before it; the load stops once they have flowed
    // on the last one too.
    const served = () => bs.reduce((n, b) => n + b.count(), 0);
    const reloads = () => (f.output().match(/config reloaded/g) ?? []).length;
    const flowing = async () => {
      const mark = served();
      await eventually(() => served() >= mark + 150, 10_000, 'requests to flow');
    };
    for (const urls of sets) {
      await flowing();
      const mark = reloads();
      await f.writeConfig(configOver(urls, { workers: 2 }));
      f.child.kill('SIGHUP');
      await eventually(() => reloads() > mark, 5000, 'the reload');
    }
    await flowing();
    done();
    const result = await load;
    assert.deepEqual(result.errors, []);
    assert.equal(result.ok(), result.sent, JSON.stringify([...result.statuses]));
    assert.ok(result.sent > 500, `load ran (${result.sent} requests)`);
    const before = bs[0]!.count() + bs[1]!.count();
    assert.deepEqual(await namesServed(f, 4), new Set([bs[2]!.name]));
    assert.equal(bs[0]!.count() + bs[1]!.count(), before, 'removed backends get nothing after the last reload');
  });
});
