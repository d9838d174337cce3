import { test } from 'node:test';
import assert from 'node:assert/strict';
import { warmthAt, warmthStepMs } from '../../../src/health/slow-start.ts';
import { ACTIVE, backends, harness, health, PASSIVE } from './harness.ts';

const round = (x: number | undefined) => (x === undefined ? x : Math.round(x * 1e6) / 1e6);

test('warmth ramps linearly from 0.1 to 1, held at the last step reached', () => {
  // 10s ramp: a step every 500ms (1/20 of it).
  const cases: [elapsed: number, warmth: number][] = [
    [0, 0.1],
    [499, 0.1],
    [500, 0.145],
    [2500, 0.325],
    [5000, 0.55],
    [9999, 0.955],
    [10_000, 1],
    [60_000, 1],
  ];
  for (const [elapsed, warmth] of cases) assert.equal(round(warmthAt(elapsed, 10_000)), warmth, `at ${elapsed}ms`);
});

test('warmth steps are a twentieth of the ramp but at least 250ms apart', () => {
  assert.equal(warmthStepMs(10_000), 500);
  assert.equal(warmthStepMs(60_000), 3000);
  assert.equal(warmthStepMs(2000), 250);
  assert.equal(round(warmthAt(250, 2000)), 0.2125);
});

test('a backend recovering from unhealthy ramps its warmth over slow_start, then is healthy at full weight', () => {
  const h = harness(health({ active: ACTIVE, slow_start: 10_000 }));
  h.probe(false, 3);
  h.probe(true, 2);
  assert.equal(h.b.state, 'slow-start');
  assert.equal(h.b.warmth, 0.1);
  const seen: [number, string, number | undefined][] = [];
  for (const step of [500, 4500, 4999, 1]) {
    h.advance(step);
    seen.push([step, h.b.state, round(h.b.warmth)]);
  }
  assert.deepEqual(seen, [
    [500, 'slow-start', 0.145],
    [4500, 'slow-start', 0.55],
    [4999, 'slow-start', 0.955],
    [1, 'healthy', 1],
  ]);
  assert.equal(h.b.effectiveWeight, 1);
});

test('each warmth step emits one event from slow-start to slow-start, and ticks within a step emit none', () => {
  const h = harness(health({ active: ACTIVE, slow_start: 10_000 }));
  h.probe(false, 3);
  h.probe(true, 2);
  h.events.length = 0;
  h.advance(200);
  h.advance(200);
  assert.equal(h.events.length, 0);
  h.advance(100);
  assert.deepEqual(
    h.events.map((e) => [e.from, e.to, e.reason, round(e.backend.warmth)]),
    [['slow-start', 'slow-start', 'slow-start', 0.145]],
  );
});

test('the state machine names the time of the next warmth step as its next deadline', () => {
  const h = harness(health({ active: ACTIVE, slow_start: 10_000 }));
  assert.equal(h.state.nextDeadline(h.clock.now()), undefined);
  h.probe(false, 3);
  h.probe(true, 2);
  const start = h.clock.now();
  assert.equal(h.state.nextDeadline(h.clock.now()), start + 500);
  h.advance(9800);
  assert.equal(h.state.nextDeadline(h.clock.now()), start + 10_000);
  h.advance(200);
  assert.equal(h.state.nextDeadline(h.clock.now()), undefined);
});

test('a backend whose ejection ends comes back in slow start', () => {
  const h = harness(health({ passive: PASSIVE, slow_start: 10_000 }));
  h.fail(5);
  h.advance(30_000);
  assert.equal(h.b.state, 'slow-start');
  assert.equal(h.b.warmth, 0.1);
});

test('a backend failing during its ramp is unhealthy, and its ramp starts over from 0.1 when it recovers', () => {
  const h = harness(health({ active: ACTIVE, slow_start: 10_000 }));
  h.probe(false, 3);
  h.probe(true, 2);
  h.advance(5000);
  h.probe(false, 3);
  assert.equal(h.b.state, 'unhealthy');
  h.advance(20_000);
  assert.equal(h.b.state, 'unhealthy');
  h.probe(true, 2);
  assert.equal(h.b.state, 'slow-start');
  assert.equal(h.b.warmth, 0.1);
});

test('backends of the first configuration start at full weight; backends added later start in slow start', () => {
  const h = harness(health({ slow_start: 10_000 }), 2);
  assert.deepEqual(
    h.pool.backends.map((b) => [b.state, b.warmth]),
    [
      ['healthy', 1],
      ['healthy', 1],
    ],
  );
  const added = backends(1, 9001)[0]!;
  h.state.setPools([{ ...h.pool, backends: [...h.pool.backends, added] }], h.clock.now());
  assert.deepEqual([added.state, added.warmth], ['slow-start', 0.1]);
  assert.deepEqual(
    h.events.map((e) => [e.backend, e.from, e.to, e.reason]),
    [[added, 'healthy', 'slow-start', 'added']],
  );
});

test('without slow start a recovering backend is healthy at full weight at once', () => {
  const h = harness(health({ active: ACTIVE }));
  h.probe(false, 3);
  h.probe(true, 2);
  assert.deepEqual([h.b.state, h.b.warmth], ['healthy', 1]);
});
