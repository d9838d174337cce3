import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACTIVE, harness, health } from './harness.ts';

test('backends start healthy before any probe has run', () => {
  const h = harness(health({ active: ACTIVE }));
  assert.deepEqual(
    h.pool.backends.map((b) => b.state),
    ['healthy', 'healthy', 'healthy', 'healthy'],
  );
  assert.deepEqual(h.events, []);
});

test('two failed probes in a row leave a backend healthy; the third marks it unhealthy', () => {
  const h = harness(health({ active: ACTIVE }));
  h.probe(false, 2);
  assert.equal(h.b.state, 'healthy');
  h.probe(false, 1);
  assert.equal(h.b.state, 'unhealthy');
  assert.deepEqual(
    h.events.map((e) => [e.backend.id, e.from, e.to, e.reason]),
    [[h.b.id, 'healthy', 'unhealthy', 'probe-failed']],
  );
});

test('a passing probe between failures restarts the failure count', () => {
  const h = harness(health({ active: ACTIVE }));
  h.probe(false, 2);
  h.probe(true, 1);
  h.probe(false, 2);
  assert.equal(h.b.state, 'healthy');
  h.probe(false, 1);
  assert.equal(h.b.state, 'unhealthy');
});

test('an unhealthy backend needs two passing probes in a row to be healthy again', () => {
  const h = harness(health({ active: ACTIVE }));
  h.probe(false, 3);
  h.probe(true, 1);
  assert.equal(h.b.state, 'unhealthy');
  h.probe(false, 1);
  h.probe(true, 1);
  assert.equal(h.b.state, 'unhealthy', 'a failure in between restarts the pass count');
  h.probe(true, 1);
  assert.equal(h.b.state, 'healthy');
  assert.equal(h.events.at(-1)?.reason, 'probe-passed');
});

test('thresholds come from the pool config', () => {
  const h = harness(health({ active: { ...ACTIVE, unhealthy: 1, healthy: 4 } }));
  h.probe(false, 1);
  assert.equal(h.b.state, 'unhealthy');
  h.probe(true, 3);
  assert.equal(h.b.state, 'unhealthy');
  h.probe(true, 1);
  assert.equal(h.b.state, 'healthy');
});

test('probe results are ignored for a pool without active checks', () => {
  const h = harness(health());
  h.probe(false, 10);
  assert.equal(h.b.state, 'healthy');
  assert.equal(h.state.snapshot(h.clock.now()).api?.[h.b.id]?.consecutiveFailures, 0);
});

test('the snapshot counts consecutive probe failures and passes', () => {
  const h = harness(health({ active: ACTIVE }));
  h.probe(false, 2);
  assert.equal(h.state.snapshot(h.clock.now()).api?.[h.b.id]?.consecutiveFailures, 2);
  h.probe(true, 1);
  const snap = h.state.snapshot(h.clock.now()).api?.[h.b.id];
  assert.equal(snap?.consecutiveFailures, 0);
  assert.equal(snap?.consecutivePasses, 1);
});
