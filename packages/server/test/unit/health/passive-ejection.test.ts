import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ejectionLimit } from '../../../src/health/outlier.ts';
import { ACTIVE, harness, health, PASSIVE } from './harness.ts';

test('four failed requests in a row leave a backend in; the fifth ejects it for the base ejection time', () => {
  const h = harness(health({ passive: PASSIVE }));
  h.fail(4);
  assert.equal(h.b.state, 'healthy');
  h.fail(1);
  assert.equal(h.b.state, 'ejected');
  assert.equal(h.state.snapshot(h.clock.now()).api?.[h.b.id]?.ejectedUntil, h.clock.now() + 30_000);
  assert.deepEqual(
    h.events.map((e) => [e.from, e.to, e.reason]),
    [['healthy', 'ejected', 'ejected']],
  );
});

test('a successful request resets the count of consecutive failures', () => {
  const h = harness(health({ passive: PASSIVE }));
  h.fail(4);
  h.succeed(1);
  h.fail(4);
  assert.equal(h.b.state, 'healthy');
  h.fail(1);
  assert.equal(h.b.state, 'ejected');
});

test('an ejected backend comes back when its ejection time is over', () => {
  const h = harness(health({ passive: PASSIVE }));
  h.fail(5);
  h.advance(29_999);
  assert.equal(h.b.state, 'ejected');
  h.advance(1);
  assert.equal(h.b.state, 'healthy');
  const last = h.events.at(-1);
  assert.deepEqual([last?.from, last?.to, last?.reason], ['ejected', 'healthy', 'ejection-ended']);
});

test('failures reported while a backend is ejected neither extend the ejection nor count afterwards', () => {
  const h = harness(health({ passive: PASSIVE }));
  h.fail(5);
  h.fail(20);
  h.advance(30_000);
  assert.equal(h.b.state, 'healthy');
  h.fail(4);
  assert.equal(h.b.state, 'healthy');
});

test('each repeated ejection lasts one base time longer', () => {
  const h = harness(health({ passive: PASSIVE }));
  const durations: number[] = [];
  for (let i = 0; i < 3; i++) {
    h.fail(5);
    const until = h.state.snapshot(h.clock.now()).api?.[h.b.id]?.ejectedUntil ?? 0;
    durations.push(until - h.clock.now());
    h.advance(until - h.clock.now());
    assert.equal(h.b.state, 'healthy');
  }
  assert.deepEqual(durations, [30_000, 60_000, 90_000]);
});

test('the ejection time stops growing at ten times the base', () => {
  const h = harness(health({ passive: PASSIVE }));
  let last = 0;
  for (let i = 0; i < 12; i++) {
    h.fail(5);
    const until = h.state.snapshot(h.clock.now()).api?.[h.b.id]?.ejectedUntil ?? 0;
    last = until - h.clock.now();
    h.advance(last);
  }
  assert.equal(last, 300_000);
  assert.equal(h.state.snapshot(h.clock.now()).api?.[h.b.id]?.ejections, 10);
});

test('the repeat count decays by one for each base period back in service without an ejection', () => {
  const h = harness(health({ passive: PASSIVE }));
  h.fail(5);
  h.advance(30_000);
  h.fail(5);
  h.advance(60_000); // ejected twice: the count is 2
  const ejections = () => h.state.snapshot(h.clock.now()).api?.[h.b.id]?.ejections;
  assert.equal(ejections(), 2);
  h.advance(29_999);
  assert.equal(ejections(), 2);
  h.advance(1);
  assert.equal(ejections(), 1);
  h.fail(5); // decayed to 1, so this ejection is the 2nd: 60s
  assert.equal(h.state.snapshot(h.clock.now()).api?.[h.b.id]?.ejectedUntil, h.clock.now() + 60_000);
  h.advance(60_000 + 60_000); // two quiet periods: back to 0
  assert.equal(ejections(), 0);
  h.fail(5);
  assert.equal(h.state.snapshot(h.clock.now()).api?.[h.b.id]?.ejectedUntil, h.clock.now() + 30_000);
});

test('no more than max_ejected of a pool is ejected at once; the next failure ejects once there is room', () => {
  const h = harness(health({ passive: PASSIVE }), 4); // 50% of 4: 2
  const [b0, b1, b2] = h.pool.backends;
  h.fail(5, b0);
  h.fail(5, b1);
  h.fail(5, b2);
  assert.deepEqual(
    h.pool.backends.map((b) => b.state),
    ['ejected', 'ejected', 'healthy', 'healthy'],
  );
  h.advance(30_000);
  assert.equal(b2!.state, 'healthy');
  h.fail(1, b2);
  assert.equal(b2!.state, 'ejected');
});

test('one backend may be ejected even when max_ejected of the pool rounds down to none', () => {
  const h = harness(health({ passive: { ...PASSIVE, max_ejected: 0.2 } }), 3);
  const [b0, b1] = h.pool.backends;
  h.fail(5, b0);
  h.fail(5, b1);
  assert.deepEqual(
    h.pool.backends.map((b) => b.state),
    ['ejected', 'healthy', 'healthy'],
  );
});

test('max_ejected of 0% disables ejection', () => {
  const h = harness(health({ passive: { ...PASSIVE, max_ejected: 0 } }));
  h.fail(50);
  assert.equal(h.b.state, 'healthy');
});

test('the ejection limit is the share of the pool rounded down, at least one, none when the share is 0', () => {
  const cases: [total: number, share: number, limit: number][] = [
    [10, 0.5, 5],
    [10, 0.29, 2],
    [100, 0.29, 29],
    [3, 0.2, 1],
    [1, 0.5, 1],
    [4, 1, 4],
    [4, 0, 0],
    [0, 0.5, 0],
  ];
  for (const [total, share, limit] of cases) assert.equal(ejectionLimit(total, share), limit, `${total} x ${share}`);
});

test('reports are ignored for a pool without passive checks', () => {
  const h = harness(health());
  h.fail(100);
  assert.equal(h.b.state, 'healthy');
});

test('with active checks, `healthy` passing probes after an ejection end it; without them it lasts its time', () => {
  const checked = harness(health({ active: ACTIVE, passive: PASSIVE }));
  checked.probe(true, 5); // passes before the ejection do not count
  checked.fail(5);
  checked.probe(true, ACTIVE.healthy - 1);
  assert.equal(checked.b.state, 'ejected');
  checked.probe(true, 1);
  assert.equal(checked.b.state, 'healthy');
  assert.equal(checked.state.snapshot(checked.clock.now()).api?.[checked.b.id]?.ejectedUntil, null);
  checked.fail(5); // still failing real requests: ejected again, for twice as long
  assert.equal(checked.state.snapshot(checked.clock.now()).api?.[checked.b.id]?.ejectedUntil, checked.clock.now() + 60_000);

  const unchecked = harness(health({ passive: PASSIVE }));
  unchecked.fail(5);
  unchecked.probe(true, 10); // ignored: the pool has no active checks
  assert.equal(unchecked.b.state, 'ejected');
});
