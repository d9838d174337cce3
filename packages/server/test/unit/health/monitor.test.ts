import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor } from '../../../src/health/monitor.ts';
import type { HealthEvent } from '../../../src/health/state.ts';
import { seededRandom, type Random } from '../../../src/time.ts';
import { Backend } from '../../../src/upstream/backend.ts';
import { FakeTimers, ManualClock } from '../../support/fake-time.ts';
import { ScriptedChecker } from './scripted-checker.ts';
import { ACTIVE, backends, health, PASSIVE } from './harness.ts';

function setup(random: Random = seededRandom(7)) {
  const clock = new ManualClock(1000);
  const timers = new FakeTimers(clock);
  const checker = new ScriptedChecker();
  const events: HealthEvent[] = [];
  const monitor = new HealthMonitor({ clock, random, checker, timers, onChange: (e) => events.push(e) });
  return { clock, timers, checker, events, monitor };
}

const fixed = (x: number): Random => ({ next: () => x });

test('the first probe of each backend comes within a tenth of the interval after start', () => {
  const { timers, monitor } = setup();
  monitor.setPools([{ name: 'api', backends: backends(5), health: health({ active: ACTIVE }) }]);
  const delays = timers.delays();
  assert.equal(delays.length, 5);
  for (const d of delays) assert.ok(d >= 0 && d < 200, `first probe after ${d}ms`);
  monitor.stop();
});

test('probes of a backend are spaced by the interval with up to 10% jitter either way', async () => {
  for (const [r, spacing] of [
    [0, 1800],
    [0.5, 2000],
    [0.9999, 2199.96],
  ] as const) {
    const { timers, checker, monitor } = setup(fixed(r));
    monitor.setPools([{ name: 'api', backends: backends(1), health: health({ active: ACTIVE }) }]);
    await timers.advance(r * 200); // to the first probe, which answers at once
    assert.equal(checker.calls.length, 1);
    assert.deepEqual(timers.delays().map(Math.round), [Math.round(spacing)]);
    monitor.stop();
  }
});

test('each probe GETs the configured path of its backend', async () => {
  const { timers, checker, monitor } = setup();
  const [b] = backends(1);
  monitor.setPools([{ name: 'api', backends: [b!], health: health({ active: { ...ACTIVE, path: '/ready' } }) }]);
  await timers.advance(200);
  assert.deepEqual(
    checker.calls.map((c) => [c.backend, c.path]),
    [[b, '/ready']],
  );
  monitor.stop();
});

test('three failing probes on schedule mark a backend unhealthy and onChange hears of it', async () => {
  const { timers, checker, events, monitor } = setup();
  const [b, other] = backends(2);
  checker.verdicts.set(b!.id, false);
  monitor.setPools([{ name: 'api', backends: [b!, other!], health: health({ active: ACTIVE }) }]);
  await timers.advance(200 + 2 * 2200);
  assert.equal(checker.calls.filter((c) => c.backend === b).length, 3);
  assert.deepEqual(
    events.map((e) => [e.pool, e.backend, e.from, e.to, e.reason]),
    [['api', b, 'healthy', 'unhealthy', 'probe-failed']],
  );
  assert.equal(other!.state, 'healthy');
  assert.equal(monitor.snapshot().api?.[b!.id]?.state, 'unhealthy');
  monitor.stop();
});

test('stop clears every timer and aborts the probes in flight', async () => {
  const { timers, checker, monitor } = setup();
  checker.hang = true;
  monitor.setPools([{ name: 'api', backends: backends(2), health: health({ active: ACTIVE, passive: PASSIVE, slow_start: 10_000 }) }]);
  await timers.advance(200);
  monitor.report('api', backends(1)[0]!, 'failure');
  assert.equal(checker.calls.length, 2);
  monitor.stop();
  assert.equal(timers.count, 0);
  assert.deepEqual(
    checker.calls.map((c) => c.signal.aborted),
    [true, true],
  );
});

test('a backend removed by a reload stops being probed and its probe in flight is aborted', async () => {
  const { timers, checker, monitor } = setup(fixed(0.5));
  const [kept, removed] = backends(2);
  const pool = { name: 'api', backends: [kept!, removed!], health: health({ active: ACTIVE }) };
  monitor.setPools([pool]);
  checker.hang = true;
  await timers.advance(200);
  const inFlight = checker.calls.find((c) => c.backend === removed);
  monitor.setPools([{ ...pool, backends: [kept!] }]);
  assert.equal(inFlight?.signal.aborted, true);
  assert.equal(timers.count, 0, 'the kept backend waits on its own probe, the removed one has no timer');
  monitor.stop();
});

test('a reload that keeps a backend keeps its schedule; a reload that changes the interval reschedules it', async () => {
  const { timers, monitor } = setup(fixed(0.5));
  const [b] = backends(1);
  const pool = { name: 'api', backends: [b!], health: health({ active: ACTIVE }) };
  monitor.setPools([pool]);
  await timers.advance(100); // the first probe ran; the next is 2000ms later
  await timers.advance(500);
  monitor.setPools([{ ...pool, backends: [new Backend({ url: b!.id, weight: 1, maxConnections: 1 })] }]);
  assert.deepEqual(timers.delays(), [1500]);
  monitor.setPools([{ ...pool, health: health({ active: { ...ACTIVE, interval: 60_000 } }) }]);
  assert.deepEqual(timers.delays(), [3000], 'a new first probe within a tenth of the new interval');
  monitor.stop();
});

test('the monitor times an ejection and the slow start ramp after it, emitting each step', async () => {
  const { timers, events, monitor } = setup();
  const [b] = backends(1);
  monitor.setPools([{ name: 'api', backends: [b!], health: health({ passive: { ...PASSIVE, max_ejected: 1 }, slow_start: 2000 }) }]);
  for (let i = 0; i < 5; i++) monitor.report('api', b!, 'failure');
  assert.equal(b!.state, 'ejected');
  assert.deepEqual(timers.delays(), [30_000]);
  await timers.advance(30_000);
  assert.deepEqual([b!.state, b!.warmth], ['slow-start', 0.1]);
  await timers.advance(2000);
  assert.deepEqual([b!.state, b!.warmth], ['healthy', 1]);
  assert.deepEqual(
    events.map((e) => [e.from, e.to, e.reason]),
    [
      ['healthy', 'ejected', 'ejected'],
      ['ejected', 'slow-start', 'ejection-ended'],
      ...Array.from({ length: 7 }, () => ['slow-start', 'slow-start', 'slow-start']),
      ['slow-start', 'healthy', 'slow-start'],
    ],
  );
  assert.equal(timers.count, 0, 'nothing timed once the ramp is over');
  monitor.stop();
});

test('drain and undrain through the monitor report whether the backend is known', () => {
  const { monitor } = setup();
  const [b] = backends(1);
  monitor.setPools([{ name: 'api', backends: [b!], health: health() }]);
  assert.equal(monitor.drain('api', b!), true);
  assert.equal(b!.state, 'draining');
  assert.equal(monitor.undrain('api', { id: b!.id }), true);
  assert.equal(b!.state, 'healthy');
  assert.equal(monitor.drain('web', b!), false);
  monitor.stop();
});

