/** The control plane's schedule on FakeTime: ejections that end, slow start steps, event dates, a clean stop. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigInput } from '../../../src/config/schema.ts';
import { settle } from '../../support/fake-time.ts';
import { controlPlane, origin, type Fixture } from './fixture.ts';

const EJECTION_MS = 30_000;
const running: Fixture[] = [];
after(() => running.forEach((f) => f.control.stop()));

function start(health: NonNullable<ConfigInput['pools'][string]['health']>): Fixture {
  const f = controlPlane({ pools: { api: { backends: [{ url: origin(8001) }, { url: origin(8002) }], health } } });
  running.push(f);
  return f;
}

const passive = { passive: { consecutive_failures: 3, ejection: `${EJECTION_MS}ms` } };

function fail(f: Fixture, times: number): void {
  for (let i = 0; i < times; i++) f.control.report('api', origin(8002), 'failure');
}

test('a backend ejected by failed requests is back after its ejection time, not before, and the proxies are told both', async () => {
  const f = start(passive);
  fail(f, 3);
  assert.equal(f.stateOf('api', origin(8002)), 'ejected');
  await settle(); // states go to the proxies in one batch per tick
  assert.deepEqual(f.sent.at(-1), { pool: 'api', id: origin(8002), state: 'ejected', warmth: 1 });
  await f.time.advance(EJECTION_MS - 1);
  assert.equal(f.stateOf('api', origin(8002)), 'ejected');
  await f.time.advance(1);
  assert.equal(f.stateOf('api', origin(8002)), 'healthy');
  assert.deepEqual(f.sent.at(-1), { pool: 'api', id: origin(8002), state: 'healthy', warmth: 1 });
});

test('events are dated by the wall clock', async () => {
  const f = start(passive);
  const startedAt = f.time.wallClock.now();
  fail(f, 3);
  await f.time.advance(EJECTION_MS);
  const changes = f.events.flatMap((e) => (e.type === 'backend-state' ? [[e.to, e.at]] : []));
  assert.deepEqual(changes, [
    ['ejected', new Date(startedAt).toISOString()],
    ['healthy', new Date(startedAt + EJECTION_MS).toISOString()],
  ]);
});

test('an ejection survives a runtime change, and ends on its own schedule', async () => {
  const f = start(passive);
  fail(f, 3);
  await f.time.advance(EJECTION_MS / 2);
  assert.deepEqual(f.control.change({ kind: 'weight', pool: 'api', backend: origin(8001), weight: 4 }, 'test'), { ok: true });
  assert.equal(f.stateOf('api', origin(8002)), 'ejected', 'the change keeps the state');
  await f.time.advance(EJECTION_MS / 2);
  assert.equal(f.stateOf('api', origin(8002)), 'healthy');
});

test('after an ejection, slow start steps reach the proxies as warmth, without an event per step', async () => {
  const f = start({ ...passive, slow_start: '10s' });
  fail(f, 3);
  await f.time.advance(EJECTION_MS);
  assert.equal(f.stateOf('api', origin(8002)), 'slow-start');
  const sentBefore = f.sent.length;
  const eventsBefore = f.events.length;
  await f.time.advance(5_000);
  const warmths = f.sent.slice(sentBefore).map((s) => s.warmth);
  assert.ok(warmths.length > 0 && warmths.every((w, i) => w > 0 && w < 1 && (i === 0 || w > warmths[i - 1]!)), `rising warmth: ${warmths}`);
  assert.equal(f.events.length, eventsBefore, 'steps are not events');
  await f.time.advance(5_000);
  assert.equal(f.stateOf('api', origin(8002)), 'healthy');
  assert.deepEqual(f.sent.at(-1), { pool: 'api', id: origin(8002), state: 'healthy', warmth: 1 });
});

test('stopping the control plane clears its timers: probes, ejections and the registration sweep', async () => {
  const f = start({ ...passive, active: { path: '/healthz', interval: '1s' } });
  fail(f, 3);
  assert.ok(f.time.timers.count >= 3, `${f.time.timers.count} timers`);
  f.control.stop();
  assert.equal(f.time.timers.count, 0);
});
