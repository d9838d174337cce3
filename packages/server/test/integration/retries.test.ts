import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { closedPort, startBackends, startBlackhole, type TestBackend } from '../support/backend.ts';
import { eventually } from '../support/eventually.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';
import { runLoad } from '../support/load.ts';

const opened: Array<{ close(): Promise<unknown> } | { stop(): Promise<unknown> }> = [];
after(async () => {
  for (const o of opened.reverse()) await ('stop' in o ? o.stop() : o.close());
});

async function fulcrumOver(backendUrls: string[], pool: Record<string, unknown> = {}): Promise<InProcessFulcrum> {
  const f = await startFulcrum({ pools: { p: { algorithm: 'round-robin', backends: backendUrls.map((url) => ({ url })), ...pool } } });
  opened.push(f);
  return f;
}

async function live(n: number): Promise<TestBackend[]> {
  const bs = await startBackends(n);
  opened.push(...bs);
  return bs;
}

describe('retries', () => {
  test('a GET to a backend that refuses connections is retried on another backend and succeeds', async () => {
    const [b] = await live(1);
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const f = await fulcrumOver([dead, b!.url], { retries: { attempts: 2, budget: '100%', min_per_second: 10 } });
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${f.url}/r${i}`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), b!.name);
    }
    assert.equal(b!.count(), 10);
    const pools = (await (await fetch(`${f.adminUrl}/api/pools`)).json()) as Array<{ backends: Array<{ id: string; retries: number }> }>;
    assert.ok(pools[0]!.backends.find((x) => x.id === dead)!.retries >= 5, 'retries are counted on the failing backend');
  });

  test('a POST with a body is never retried: the client gets 502 when its backend fails', async () => {
    const [b] = await live(1);
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const f = await fulcrumOver([dead, b!.url]);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${f.url}/post`, { method: 'POST', body: 'payload' });
      statuses.push(res.status);
      await res.text();
    }
    assert.deepEqual(statuses.sort(), [200, 200, 502, 502]);
    assert.equal(b!.count(), 2);
  });

  test('a spent retry budget turns a refused connection into a 502 instead of a retry', async () => {
    const [b] = await live(1);
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const f = await fulcrumOver([dead, b!.url], { retries: { attempts: 2, budget: '0%', min_per_second: 0 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${f.url}/g`);
      statuses.push(res.status);
      await res.text();
    }
    assert.deepEqual(statuses.sort(), [200, 200, 502, 502]);
  });

  test('a backend that cannot be reached within timeouts.connect is given up on and the GET retried elsewhere', async () => {
    const [b] = await live(1);
    const hole = await startBlackhole();
    try {
      const f = await fulcrumOver([`http://127.0.0.1:${hole.port}`, b!.url], {
        timeouts: { connect: '150ms' },
        retries: { attempts: 2, budget: '100%', min_per_second: 10 },
      });
      for (let i = 0; i < 4; i++) assert.equal((await fetch(`${f.url}/c${i}`)).status, 200);
      const stats = (await (await fetch(`${f.adminUrl}/api/stats`)).json()) as { pools: { p: { retries: number } } };
      assert.ok(stats.pools.p.retries >= 1, 'the unreachable backend was tried and given up on');
    } finally {
      hole.close();
    }
  });

  test('retries stop after the configured attempts', async () => {
    const deads = await Promise.all([closedPort(), closedPort(), closedPort()]);
    const f = await fulcrumOver(
      deads.map((p) => `http://127.0.0.1:${p}`),
      { retries: { attempts: 1, budget: '100%', min_per_second: 10 } },
    );
    const res = await fetch(`${f.url}/g`);
    assert.equal(res.status, 502);
    assert.match(await res.text(), /FUL_ERR_CONNECT_FAILED/);
    const stats = (await (await fetch(`${f.adminUrl}/api/stats`)).json()) as { pools: { p: { retries: number } } };
    assert.equal(stats.pools.p.retries, 1);
  });

  test('a backend killed mid-run loses no idempotent request', async () => {
    const bs = await live(3);
    for (const b of bs) b.delay = 3;
    const f = await fulcrumOver(
      bs.map((b) => b.url),
      { health: { passive: { consecutive_failures: 3, ejection: '30s', max_ejected: '50%' } } },
    );
    let killed!: () => void;
    const killedSignal = new Promise<void>((r) => (killed = r));
    const load = runLoad({ url: `${f.url}/work`, concurrency: 16, total: 3000, maxMs: 20_000 });
    // Kill one backend once traffic flows; its in-flight requests are reset mid-way.
    const killer = (async () => {
      await eventually(() => bs[1]!.count() >= 100, 10_000, '100 requests on the backend to kill');
      await bs[1]!.kill();
      killed();
    })();
    const result = await load;
    await killer;
    await killedSignal;
    assert.deepEqual(result.errors, []);
    assert.equal(result.ok(), result.sent, `all ${result.sent} requests succeed: ${JSON.stringify([...result.statuses])}`);
    assert.ok(bs[0]!.count() + bs[2]!.count() > 2000, 'the survivors took over');
  });
});
