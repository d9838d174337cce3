/** The HTTP health checker and the monitor against real backends on loopback sockets. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { HEALTH_USER_AGENT, HttpHealthChecker } from '../../src/health/checker.ts';
import { HealthMonitor } from '../../src/health/monitor.ts';
import { monotonicClock, systemRandom } from '../../src/time.ts';
import { Backend } from '../../src/upstream/backend.ts';
import { closedPort, startBackend } from '../support/backend.ts';
import { eventually } from '../support/eventually.ts';

const checker = new HttpHealthChecker();
after(() => checker.close());

const backendAt = (url: string) => new Backend({ url, weight: 1, maxConnections: 10 });

test('a probe answered 200 passes', async (t) => {
  const server = await startBackend('ok');
  t.after(() => server.close());
  assert.equal(await checker.check(backendAt(server.url), '/healthz', AbortSignal.timeout(1000)), true);
});

test('a probe passes on statuses 200 to 399 and fails on any other', async (t) => {
  const server = await startBackend('status');
  t.after(() => server.close());
  const b = backendAt(server.url);
  const verdicts: [number, boolean][] = [];
  for (const status of [200, 204, 302, 399, 400, 404, 500, 503]) {
    server.healthStatus = status;
    verdicts.push([status, await checker.check(b, '/healthz', AbortSignal.timeout(1000))]);
  }
  assert.deepEqual(verdicts, [
    [200, true],
    [204, true],
    [302, true],
    [399, true],
    [400, false],
    [404, false],
    [500, false],
    [503, false],
  ]);
});

test('a probe answered 500 fails', async (t) => {
  const server = await startBackend('sick');
  t.after(() => server.close());
  server.healthStatus = 500;
  assert.equal(await checker.check(backendAt(server.url), '/healthz', AbortSignal.timeout(1000)), false);
});

test('a probe to a port where nothing listens fails', async () => {
  const port = await closedPort();
  assert.equal(await checker.check(backendAt(`http://127.0.0.1:${port}`), '/healthz', AbortSignal.timeout(1000)), false);
});

test('a probe sends GET on the path with the backend as Host and the fulcrum-health user agent', async (t) => {
  const server = await startBackend('headers');
  t.after(() => server.close());
  const b = backendAt(server.url);
  assert.equal(await checker.check(b, '/ready?deep=1', AbortSignal.timeout(1000)), true);
  const seen = server.requests[0];
  assert.equal(seen?.method, 'GET');
  assert.equal(seen?.url, '/ready?deep=1');
  assert.equal(seen?.headers.host, b.authority);
  assert.equal(seen?.headers['user-agent'], HEALTH_USER_AGENT);
});

test('a probe drains a response body, so the next probe reuses the same connection', async (t) => {
  const server = await startBackend('body');
  t.after(() => server.close());
  const ports: (number | undefined)[] = [];
  server.handle((req, res) => {
    ports.push(req.socket.remotePort);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(256 * 1024));
  });
  const b = backendAt(server.url);
  assert.equal(await checker.check(b, '/status', AbortSignal.timeout(1000)), true);
  assert.equal(await checker.check(b, '/status', AbortSignal.timeout(1000)), true);
  assert.equal(ports.length, 2);
  assert.equal(ports[0], ports[1]);
});

test('a reset on a reused keep-alive connection is retried once on a new connection', async (t) => {
  const server = await startBackend('reset');
  t.after(() => server.close());
  const b = backendAt(server.url);
  let n = 0;
  server.handle((req, res) => {
    n++;
    if (n === 2) req.socket.destroy(); // the second request arrives on the reused connection
    else res.writeHead(200).end();
  });
  assert.equal(await checker.check(b, '/status', AbortSignal.timeout(1000)), true);
  assert.equal(await checker.check(b, '/status', AbortSignal.timeout(1000)), true);
  assert.equal(n, 3);
});

test('a reset on a new connection fails the probe', async (t) => {
  const server = await startBackend('reset-always');
  t.after(() => server.close());
  server.handle((req) => req.socket.destroy());
  assert.equal(await checker.check(backendAt(server.url), '/status', AbortSignal.timeout(1000)), false);
  assert.equal(server.count(), 1);
});

test('a backend that never answers fails within the timeout and its connection is destroyed', async (t) => {
  const server = await startBackend('mute');
  t.after(() => server.close());
  let closed: Promise<void> | undefined;
  server.handle((req) => {
    closed = new Promise((resolve) => req.socket.once('close', () => resolve()));
  });
  const started = performance.now();
  const passed = await checker.check(backendAt(server.url), '/slow', AbortSignal.timeout(150));
  const took = performance.now() - started;
  assert.equal(passed, false);
  assert.ok(took >= 140 && took < 1000, `failed after ${Math.round(took)}ms`);
  assert.ok(closed, 'the request reached the backend');
  await Promise.race([
    closed,
    new Promise((_, reject) => setTimeout(() => reject(new Error('the probe socket stayed open')), 1000).unref()),
  ]);
});

test('a probe whose signal is already aborted fails without connecting', async (t) => {
  const server = await startBackend('idle');
  t.after(() => server.close());
  assert.equal(await checker.check(backendAt(server.url), '/status', AbortSignal.abort()), false);
  assert.equal(server.count(), 0);
});

test('the monitor marks a backend unhealthy while /healthz answers 503 and healthy again once it answers 200', async (t) => {
  const server = await startBackend('flappy');
  const b = backendAt(server.url);
  const transitions: string[] = [];
  const monitor = new HealthMonitor({
    clock: monotonicClock,
    random: systemRandom,
    checker,
    onChange: (e) => transitions.push(`${e.from}->${e.to}`),
  });
  t.after(async () => {
    monitor.stop();
    await server.close();
  });
  const active = { path: '/healthz', interval: 50, timeout: 500, healthy: 2, unhealthy: 3 };
  monitor.setPools([{ name: 'api', backends: [b], health: { active, slow_start: 0 } }]);
  server.healthStatus = 503;
  await eventually(() => b.state === 'unhealthy', 3000, 'unhealthy after three failed probes');
  server.healthStatus = 200;
  await eventually(() => b.state === 'healthy', 3000, 'healthy after two passing probes');
  assert.deepEqual(transitions, ['healthy->unhealthy', 'unhealthy->healthy']);
});
