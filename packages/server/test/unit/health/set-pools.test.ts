import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backend } from '../../../src/upstream/backend.ts';
import { ACTIVE, backends, harness, health, PASSIVE } from './harness.ts';

const copy = (b: Backend) => new Backend({ url: b.id, weight: b.weight, maxConnections: b.maxConnections });

test('a reload keeps the health of a backend that stays, carried onto the new Backend object', () => {
  const h = harness(health({ active: ACTIVE, passive: PASSIVE }), 2);
  h.probe(false, 3);
  h.probe(false, 2, h.pool.backends[1]);
  const fresh = h.pool.backends.map(copy);
  h.state.setPools([{ ...h.pool, backends: fresh }], h.clock.now());
  assert.equal(fresh[0]!.state, 'unhealthy');
  // Counters are kept too: one more failure makes three for the second backend.
  h.state.onProbeResult('api', fresh[1]!, false, h.clock.now());
  assert.equal(fresh[1]!.state, 'unhealthy');
  // Events now name the new objects.
  assert.equal(h.events.at(-1)?.backend, fresh[1]);
});

test('a reload with the same Backend objects changes nothing and emits nothing', () => {
  const h = harness(health({ active: ACTIVE, passive: PASSIVE, slow_start: 10_000 }), 2);
  h.probe(false, 3);
  h.events.length = 0;
  h.state.setPools([h.pool], h.clock.now());
  assert.equal(h.b.state, 'unhealthy');
  assert.deepEqual(h.events, []);
});

test('a reload keeps an ejection running with its end time', () => {
  const h = harness(health({ passive: PASSIVE }), 2);
  h.fail(5);
  const fresh = h.pool.backends.map(copy);
  h.state.setPools([{ ...h.pool, backends: fresh }], h.clock.now());
  assert.equal(fresh[0]!.state, 'ejected');
  h.advance(30_000);
  assert.equal(fresh[0]!.state, 'healthy');
});

test('a removed backend is forgotten: its reports and probe results change nothing, and it is gone from the snapshot', () => {
  const h = harness(health({ active: ACTIVE, passive: PASSIVE }), 2);
  const [kept, removed] = h.pool.backends;
  h.state.setPools([{ ...h.pool, backends: [kept!] }], h.clock.now());
  h.state.onProbeResult('api', removed!, false, h.clock.now());
  h.fail(10, removed);
  assert.equal(removed!.state, 'healthy');
  assert.deepEqual(Object.keys(h.state.snapshot(h.clock.now()).api ?? {}), [kept!.id]);
  assert.deepEqual([...h.state.entries()].map((e) => e.backend), [kept]);
});

test('a backend removed and added back starts afresh', () => {
  const h = harness(health({ active: ACTIVE }), 2);
  h.probe(false, 3);
  h.state.setPools([{ ...h.pool, backends: [h.pool.backends[1]!] }], h.clock.now());
  const back = copy(h.b);
  h.state.setPools([{ ...h.pool, backends: [back, h.pool.backends[1]!] }], h.clock.now());
  assert.equal(back.state, 'healthy');
});

test('a backend of the same origin in a renamed pool is a new backend', () => {
  const h = harness(health({ active: ACTIVE }), 1);
  h.probe(false, 3);
  const moved = copy(h.b);
  h.state.setPools([{ name: 'web', backends: [moved], health: h.pool.health }], h.clock.now());
  assert.equal(moved.state, 'healthy');
  assert.deepEqual(Object.keys(h.state.snapshot(h.clock.now())), ['web']);
});

test('the same backend entry is kept across reloads, so its probe schedule can be kept', () => {
  const h = harness(health({ active: ACTIVE }), 2);
  const before = [...h.state.entries()];
  h.state.setPools([{ ...h.pool, backends: h.pool.backends.map(copy) }], h.clock.now());
  const after = [...h.state.entries()];
  assert.equal(after[0], before[0]);
  assert.equal(h.state.has(before[1]!), true);
  h.state.setPools([{ ...h.pool, backends: backends(1, 9001) }], h.clock.now());
  assert.equal(h.state.has(before[0]!), false);
});

test('turning active checks off brings an unhealthy backend back', () => {
  const h = harness(health({ active: ACTIVE }), 2);
  h.probe(false, 3);
  h.state.setPools([{ ...h.pool, health: health() }], h.clock.now());
  assert.equal(h.b.state, 'healthy');
  assert.equal(h.events.at(-1)?.reason, 'reconfigured');
});

test('turning passive checks off ends an ejection', () => {
  const h = harness(health({ passive: PASSIVE }), 2);
  h.fail(5);
  h.state.setPools([{ ...h.pool, health: health() }], h.clock.now());
  assert.equal(h.b.state, 'healthy');
});

test('turning slow start off finishes a ramp at full weight', () => {
  const h = harness(health({ active: ACTIVE, slow_start: 10_000 }), 2);
  h.probe(false, 3);
  h.probe(true, 2);
  h.state.setPools([{ ...h.pool, health: health({ active: ACTIVE }) }], h.clock.now());
  assert.deepEqual([h.b.state, h.b.warmth], ['healthy', 1]);
});
