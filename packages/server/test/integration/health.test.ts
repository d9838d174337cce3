import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startBackends, type TestBackend } from '../support/backend.ts';
import { eventually } from '../support/eventually.ts';
import { FakeTime } from '../support/fake-time.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';
import { runLoad } from '../support/load.ts';

const opened: Array<TestBackend | InProcessFulcrum> = [];
after(async () => {
  for (const o of opened.reverse()) await ('stop' in o ? o.stop() : o.close());
});

interface BackendView {
  id: string;
  state: string;
  warmth: number;
  requests: number;
}

async function backendsOf(f: InProcessFulcrum): Promise<BackendView[]> {
  const [pool] = (await (await fetch(`${f.adminUrl}/api/pools`)).json()) as Array<{ backends: BackendView[] }>;
  return pool!.backends;
}

async function stateOf(f: InProcessFulcrum, b: TestBackend): Promise<string | undefined> {
  return (await backendsOf(f)).find((x) => x.id === b.url)?.state;
}

async function setup(n: number, pool: Record<string, unknown>, controlTime?: FakeTime): Promise<{ bs: TestBackend[]; f: InProcessFulcrum }> {
  const bs = await startBackends(n);
  opened.push(...bs);
  const f = await startFulcrum({ pools: { p: { algorithm: 'round-robin', backends: bs.map((b) => ({ url: b.url })), ...pool } } }, undefined, { controlTime });
  opened.push(f);
  return { bs, f };
}

describe('health', () => {
  test('an active check failing takes a backend out of rotation, and passing brings it back through slow start', async () => {
    // The schedule (probes, slow start steps) on FakeTime; the probes themselves are real requests.
    const time = new FakeTime();
    const { bs, f } = await setup(
      2,
      { health: { active: { path: '/healthz', interval: '1s', timeout: '1s', healthy: 2, unhealthy: 2 }, slow_start: '10s' } },
      time,
    );
    /** Moves time a probe interval at a time, letting each probe's real request finish, until `state`. */
    const probedUntil = (state: string) =>
      eventually(
        async () => {
          await time.advance(1000);
          return (await stateOf(f, bs[1]!)) === state;
        },
        5000,
        state,
      );
    bs[1]!.healthStatus = 503;
    await probedUntil('unhealthy');
    const before = bs[1]!.count();
    const during = await runLoad({ url: `${f.url}/`, concurrency: 4, total: 100 });
    assert.equal(during.ok(), 100);
    assert.equal(bs[1]!.count(), before, 'no request reaches an unhealthy backend');
    bs[1]!.healthStatus = 200;
    await probedUntil('slow-start');
    const warming = (await backendsOf(f)).find((b) => b.id === bs[1]!.url)!;
    assert.ok(warming.warmth < 0.5, `warmth ramps (${warming.warmth})`);
    await time.advance(10_000);
    assert.equal(await stateOf(f, bs[1]!), 'healthy', 'healthy again at the end of slow start');
    const after = await runLoad({ url: `${f.url}/`, concurrency: 4, total: 100 });
    assert.equal(after.ok(), 100);
    assert.ok(bs[1]!.count() - before >= 40, 'the recovered backend takes its share again');
  });

  test('consecutive 5xx answers eject a backend, which shows in the API, events and metrics', async () => {
    const { bs, f } = await setup(2, { health: { passive: { consecutive_failures: 3, ejection: '30s', max_ejected: '50%' } } });
    bs[0]!.handle((_req, res) => res.writeHead(500).end('boom'));
    const load = await runLoad({ url: `${f.url}/`, concurrency: 1, total: 40 });
    assert.equal(await stateOf(f, bs[0]!), 'ejected');
    // Round robin sends every other request to the failing backend until it is ejected after 3 failures.
    assert.equal(bs[0]!.count(), 3);
    assert.equal(load.statuses.get(500), 3);
    const events = (await (await fetch(`${f.adminUrl}/api/events`)).json()) as Array<{ type: string; to?: string; reason?: string }>;
    assert.ok(events.some((e) => e.type === 'backend-state' && e.to === 'ejected' && e.reason === 'ejected'));
    const metrics = await (await fetch(`${f.adminUrl}/metrics`)).text();
    assert.match(metrics, new RegExp(`fulcrum_backend_ejections_total\\{pool="p",backend="${bs[0]!.url}"\\} 1`));
    assert.match(metrics, new RegExp(`fulcrum_backend_up\\{pool="p",backend="${bs[0]!.url}"\\} 0`));
  });

  test('passive ejection never takes out more than max_ejected of a pool', async () => {
    const { bs, f } = await setup(2, { health: { passive: { consecutive_failures: 2, ejection: '30s', max_ejected: '50%' } } });
    for (const b of bs) b.handle((_req, res) => res.writeHead(502).end());
    await runLoad({ url: `${f.url}/`, concurrency: 1, total: 20 });
    const states = (await backendsOf(f)).map((b) => b.state).sort();
    assert.deepEqual(states, ['ejected', 'healthy']);
  });
});

describe('p2c-ewma end to end', () => {
  test('a backend ten times slower than its peers gets a small share of the traffic', async () => {
    const { bs, f } = await setup(3, { algorithm: 'p2c-ewma' });
    bs[0]!.delay = 1;
    bs[1]!.delay = 1;
    bs[2]!.delay = 25;
    const result = await runLoad({ url: `${f.url}/`, concurrency: 6, total: 600 });
    assert.equal(result.ok(), 600);
    const share = bs[2]!.count() / 600;
    assert.ok(share < 0.12, `slow backend share ${share.toFixed(3)}`);
  });
});
