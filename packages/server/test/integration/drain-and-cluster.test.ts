import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, test } from 'node:test';
import { startBackends, type TestBackend } from '../support/backend.ts';
import { eventually } from '../support/eventually.ts';
import { spawnFulcrum, startFulcrum, testConfig, type SpawnedFulcrum } from '../support/fulcrum.ts';
import { runLoad } from '../support/load.ts';

const backends: TestBackend[] = [];
const fulcrums: SpawnedFulcrum[] = [];
after(async () => {
  for (const f of fulcrums) await f.stop();
  for (const b of backends) await b.close();
});

function get(url: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      })
      .on('error', reject);
  });
}

describe('graceful drain', () => {
  test('on SIGTERM, in-flight requests finish, new connections are refused, and the process exits 0', async () => {
    const [b] = await startBackends(1);
    backends.push(b!);
    b!.delay = 600;
    const f = await spawnFulcrum(testConfig({ pools: { p: { backends: [{ url: b!.url }] } }, workers: 2, drain_timeout: '5s' }));
    const inFlight = [get(`${f.url}/slow1`), get(`${f.url}/slow2`), get(`${f.url}/slow3`)];
    await eventually(() => b!.requests.length === 3, 5000, 'the requests to reach the backend');
    const exited = f.stop();
    const results = await Promise.all(inFlight);
    for (const r of results) assert.equal(r.status, 200);
    assert.equal(await exited, 0);
    await assert.rejects(get(`${f.url}/after`), /ECONNREFUSED/);
  });

  test('a drain stops at drain_timeout: requests still running then are cut', async () => {
    const [b] = await startBackends(1);
    backends.push(b!);
    b!.delay = 10_000;
    const f = await startFulcrum({ pools: { p: { backends: [{ url: b!.url }] } }, drain_timeout: '300ms' });
    const pending = get(`${f.url}/forever`).then(
      () => new Error('answered'),
      (err: Error) => err,
    );
    await eventually(() => b!.requests.length === 1, 5000, 'the request to reach the backend');
    const started = Date.now();
    await f.stop();
    assert.ok(Date.now() - started < 3000, 'stop returned soon after the deadline');
    assert.match((await pending).message, /socket hang up|ECONNRESET/);
    assert.ok(f.logs.some((l) => l.msg === 'drained' && l['result'] === 'deadline'));
  });

  test('a backend drained in the config gets no new requests while its in-flight one completes', async () => {
    const bs = await startBackends(2);
    backends.push(...bs);
    const f = await startFulcrum({ pools: { p: { backends: bs.map((b) => ({ url: b.url })) } } });
    try {
      bs[0]!.delay = bs[1]!.delay = 400;
      // Round robin: one slow request on each backend.
      const slow = [get(`${f.url}/first`), get(`${f.url}/second`)];
      await eventually(() => bs[0]!.requests.length === 1 && bs[1]!.requests.length === 1, 5000, 'the slow requests');
      bs[1]!.delay = 0;
      f.control.apply({ ...f.control.config, pools: { p: { ...f.control.config.pools.p!, backends: f.control.config.pools.p!.backends.map((b, i) => ({ ...b, drain: i === 0 })) } } });
      for (let i = 0; i < 6; i++) assert.equal((await get(`${f.url}/n${i}`)).body, bs[1]!.name);
      for (const r of await Promise.all(slow)) assert.equal(r.status, 200);
      assert.equal(bs[0]!.requests.length, 1);
      const pools = (await (await fetch(`${f.adminUrl}/api/pools`)).json()) as Array<{ backends: Array<{ state: string }> }>;
      assert.equal(pools[0]!.backends[0]!.state, 'draining');
    } finally {
      await f.stop();
    }
  });
});

describe('multi-core', () => {
  test('with two workers, health is probed once for all of them, not once per worker', async (t) => {
    let probes = 0;
    const counting = http.createServer((req, res) => {
      if (req.url === '/healthz') probes++;
      res.end('ok');
    });
    await new Promise<void>((r) => counting.listen(0, '127.0.0.1', r));
    // Closed however the test ends: a listener left open keeps the test process, and the suite, waiting for ever.
    t.after(() => {
      counting.close();
      counting.closeAllConnections();
    });
    const port = (counting.address() as { port: number }).port;
    const f = await spawnFulcrum(
      testConfig({
        workers: 2,
        pools: {
          p: {
            backends: [{ url: `http://127.0.0.1:${port}` }],
            health: { active: { path: '/healthz', interval: '100ms', timeout: '500ms', healthy: 1, unhealthy: 1 } },
          },
        },
      }),
    );
    fulcrums.push(f);
    const start = probes;
    // A rate is measured over a window: there is no event to wait for (the probes come from another process).
    await new Promise((r) => setTimeout(r, 1000));
    const perSecond = probes - start;
    // One prober at a 100 ms interval makes about 10 probes a second; one per worker would make about 20.
    assert.ok(perSecond >= 6 && perSecond <= 13, `probes in one second: ${perSecond}`);
  });

  test('with two workers, requests are spread over both and the admin API sums their statistics', async () => {
    const bs = await startBackends(2);
    backends.push(...bs);
    const f = await spawnFulcrum(testConfig({ workers: 2, pools: { p: { backends: bs.map((b) => ({ url: b.url })) } } }));
    fulcrums.push(f);
    const result = await runLoad({ url: `${f.url}/`, concurrency: 8, total: 400 });
    assert.equal(result.ok(), 400);
    const pids = new Set<string>();
    for (const line of f.output().split('\n')) {
      const m = /"pid":(\d+)/.exec(line);
      if (m && line.includes('fulcrum ready')) pids.add(m[1]!);
    }
    await eventually(
      async () => {
        const stats = (await (await fetch(`${f.adminUrl}/api/stats`)).json()) as { pools: { p?: { requests: number } } };
        return stats.pools.p?.requests === 400;
      },
      5000,
      'the primary to sum 400 requests from the workers',
    );
    const metrics = await (await fetch(`${f.adminUrl}/metrics`)).text();
    const total = [...metrics.matchAll(/^fulcrum_http_requests_total\{[^}]*code_class="2xx"[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
    assert.equal(total, 400);
    assert.equal(bs[0]!.count() + bs[1]!.count(), 400);
  });

  test('a worker that dies is replaced and traffic keeps flowing', async () => {
    const [b] = await startBackends(1);
    backends.push(b!);
    const f = await spawnFulcrum(testConfig({ workers: 2, log: { level: 'info', access: true }, pools: { p: { backends: [{ url: b!.url }] } } }));
    fulcrums.push(f);
    // Find a worker pid from an access log line, then kill it.
    await get(`${f.url}/who`);
    await eventually(() => /"msg":"request"/.test(f.output()), 5000, 'an access log line');
    const workerPid = Number(/"pid":(\d+)[^\n]*"msg":"request"/.exec(f.output())![1]);
    assert.notEqual(workerPid, f.child.pid);
    process.kill(workerPid, 'SIGKILL');
    await eventually(() => f.output().includes('worker exited; starting another'), 5000, 'the primary to notice');
    await eventually(async () => (await get(`${f.url}/after`).catch(() => ({ status: 0 }))).status === 200, 10_000, 'traffic');
    const result = await runLoad({ url: `${f.url}/`, concurrency: 4, total: 100 });
    assert.equal(result.ok(), 100);
  });
});
