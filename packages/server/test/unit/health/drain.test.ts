import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveState } from '../../../src/health/state.ts';
import { ACTIVE, harness, health, PASSIVE } from './harness.ts';

test('state precedence is draining, then ejected, then unhealthy, then slow start, then healthy', () => {
  const cases: [draining: boolean, ejected: boolean, unhealthy: boolean, warmth: number, state: string][] = [
    [true, true, true, 0.5, 'draining'],
    [false, true, true, 0.5, 'ejected'],
    [false, false, true, 0.5, 'unhealthy'],
    [false, false, false, 0.5, 'slow-start'],
    [false, false, false, 1, 'healthy'],
    [true, false, false, 1, 'draining'],
  ];
  for (const [draining, ejected, unhealthy, warmth, state] of cases) {
    const flags = { draining, ejected, unhealthy, warmth };
    assert.equal(deriveState(flags), state, JSON.stringify(flags));
  }
});

test('a drained backend is draining whatever its health says', () => {
  const h = harness(health({ active: ACTIVE, passive: PASSIVE }));
  assert.equal(h.state.drain('api', h.b, h.clock.now()), true);
  assert.equal(h.b.state, 'draining');
  h.probe(false, 3);
  h.fail(5);
  assert.equal(h.b.state, 'draining');
  assert.deepEqual(
    h.events.map((e) => [e.from, e.to, e.reason]),
    [['healthy', 'draining', 'drain']],
  );
});

test('undrain returns a backend to the state its health tracked meanwhile', () => {
  const h = harness(health({ active: ACTIVE }));
  h.state.drain('api', h.b, h.clock.now());
  h.probe(false, 3);
  h.state.undrain('api', h.b, h.clock.now());
  assert.equal(h.b.state, 'unhealthy');
  const last = h.events.at(-1);
  assert.deepEqual([last?.from, last?.to, last?.reason], ['draining', 'unhealthy', 'undrain']);
});

test('undrain of a backend that stayed healthy makes it healthy', () => {
  const h = harness(health({ active: ACTIVE }));
  h.state.drain('api', h.b, h.clock.now());
  h.state.undrain('api', h.b, h.clock.now());
  assert.equal(h.b.state, 'healthy');
});

test('a drained backend whose ejection ends while draining stays draining, and is healthy once undrained', () => {
  const h = harness(health({ passive: PASSIVE }));
  h.fail(5);
  h.state.drain('api', h.b, h.clock.now());
  h.advance(30_000);
  assert.equal(h.b.state, 'draining');
  h.state.undrain('api', h.b, h.clock.now());
  assert.equal(h.b.state, 'healthy');
});

test('drain and undrain of an unknown pool or backend report false and change nothing', () => {
  const h = harness(health());
  assert.equal(h.state.drain('nope', h.b, h.clock.now()), false);
  assert.equal(h.state.drain('api', { id: 'http://127.0.0.1:1' }, h.clock.now()), false);
  assert.equal(h.state.undrain('api', { id: 'http://127.0.0.1:1' }, h.clock.now()), false);
  assert.deepEqual(h.events, []);
});

test('a backend can be drained by its id alone, as the admin API knows it', () => {
  const h = harness(health());
  assert.equal(h.state.drain('api', { id: h.b.id }, h.clock.now()), true);
  assert.equal(h.b.state, 'draining');
});
