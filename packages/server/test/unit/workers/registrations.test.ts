/** Self-registrations on the control plane, on FakeTime: expiry, heartbeats and reloads without waiting for a TTL. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigInput } from '../../../src/config/schema.ts';
import { SWEEP_MS } from '../../../src/workers/registrations.ts';
import { testConfig, writeConfigFile } from '../../support/fulcrum.ts';
import { backendConfig, controlPlane, origin, type Fixture } from './fixture.ts';

const TTL = 1000;
const running: Fixture[] = [];
after(() => running.forEach((f) => f.control.stop()));

function start(pools: ConfigInput['pools'] = { api: { backends: [{ url: origin(8001) }] } }, file?: string): Fixture {
  const f = controlPlane({ pools }, file);
  running.push(f);
  return f;
}

describe('registrations', () => {
  test('a registration that is not renewed stays for its TTL and is gone at the first sweep after it', async () => {
    const f = start();
    assert.deepEqual(f.control.registrations.heartbeat('api', backendConfig(8002), TTL, 'test'), { ok: true, renewed: false });
    assert.deepEqual(f.backendsOf('api'), [origin(8001), origin(8002)]);
    await f.time.advance(TTL - 1);
    assert.deepEqual(f.backendsOf('api'), [origin(8001), origin(8002)], 'still there within its TTL');
    await f.time.advance(SWEEP_MS + 1);
    assert.deepEqual(f.backendsOf('api'), [origin(8001)]);
    assert.equal(f.control.registrations.isRegistered('api', origin(8002)), false);
    const last = f.events.at(-1);
    assert.ok(last?.type === 'runtime-change' && last.change.kind === 'remove-backend' && last.by === 'ttl-expired', JSON.stringify(last));
  });

  test('a heartbeat within the TTL renews it for a whole TTL from then', async () => {
    const f = start();
    f.control.registrations.heartbeat('api', backendConfig(8002), TTL, 'test');
    await f.time.advance(800);
    assert.deepEqual(f.control.registrations.heartbeat('api', backendConfig(8002), TTL, 'test'), { ok: true, renewed: true });
    await f.time.advance(800);
    assert.deepEqual(f.backendsOf('api'), [origin(8001), origin(8002)], 'past the first TTL, within the renewed one');
    await f.time.advance(TTL);
    assert.deepEqual(f.backendsOf('api'), [origin(8001)]);
  });

  test('a heartbeat with another weight applies it; one with the same weight changes nothing', async () => {
    const f = start();
    f.control.registrations.heartbeat('api', backendConfig(8002), TTL, 'test');
    const changes = () => f.events.filter((e) => e.type === 'runtime-change').length;
    const before = changes();
    f.control.registrations.heartbeat('api', backendConfig(8002), TTL, 'test');
    assert.equal(changes(), before, 'a plain heartbeat is not a change');
    f.control.registrations.heartbeat('api', backendConfig(8002, 5), TTL, 'test');
    assert.equal(f.control.config.pools.api!.backends[1]!.weight, 5);
  });

  test('a backend of the config file cannot register; one that deregisters leaves at once; an unknown one is not found', () => {
    const f = start();
    assert.deepEqual(f.control.registrations.heartbeat('api', backendConfig(8001), TTL, 'test'), { ok: false, reason: 'configured' });
    f.control.registrations.heartbeat('api', backendConfig(8002), TTL, 'test');
    assert.deepEqual(f.control.registrations.deregister('api', origin(8002), 'test'), { ok: true, renewed: false });
    assert.deepEqual(f.backendsOf('api'), [origin(8001)]);
    assert.deepEqual(f.control.registrations.deregister('api', origin(8002), 'test'), { ok: false, reason: 'no-backend' });
  });

  test('stopping the control plane ends the sweep: no timer is left', async () => {
    const f = start();
    f.control.registrations.heartbeat('api', backendConfig(8002), TTL, 'test');
    assert.ok(f.time.timers.count > 0);
    f.control.stop();
    assert.equal(f.time.timers.count, 0);
    await f.time.advance(10 * TTL);
    assert.deepEqual(f.backendsOf('api'), [origin(8001), origin(8002)], 'nothing runs after stop');
  });
});

describe('registrations across a reload from disk', () => {
  const pools = (...ports: number[]) => ({ api: { backends: ports.map((p) => ({ url: origin(p) })) } });

  test('a registration outlives a reload and still expires when it is not renewed', async () => {
    const file = await writeConfigFile(testConfig({ pools: pools(8001) }));
    const f = start(pools(8001), file);
    f.control.registrations.heartbeat('api', backendConfig(8002, 3), TTL, 'test');
    await writeConfigFile(testConfig({ pools: pools(8001), log: { level: 'warn', access: false } }), file);
    assert.deepEqual(await f.control.reload(), { ok: true });
    assert.deepEqual(f.backendsOf('api'), [origin(8001), origin(8002)]);
    assert.equal(f.control.config.pools.api!.backends[1]!.weight, 3, 'as last registered');
    await f.time.advance(TTL + SWEEP_MS);
    assert.deepEqual(f.backendsOf('api'), [origin(8001)]);
  });

  test('a registered backend that the new file lists stays when its registration would have expired', async () => {
    const file = await writeConfigFile(testConfig({ pools: pools(8001) }));
    const f = start(pools(8001), file);
    f.control.registrations.heartbeat('api', backendConfig(8002), TTL, 'test');
    await writeConfigFile(testConfig({ pools: pools(8001, 8002) }), file);
    assert.deepEqual(await f.control.reload(), { ok: true });
    await f.time.advance(10 * TTL);
    assert.deepEqual(f.backendsOf('api'), [origin(8001), origin(8002)]);
    assert.equal(f.control.registrations.isRegistered('api', origin(8002)), false, 'configured now, not registered');
  });

  test('a registration whose pool the new file removes is forgotten', async () => {
    const both = { api: pools(8001).api, other: { backends: [] } };
    const file = await writeConfigFile(testConfig({ pools: both }));
    const f = start(both, file);
    f.control.registrations.heartbeat('other', backendConfig(8003), TTL, 'test');
    await writeConfigFile(testConfig({ pools: pools(8001) }), file);
    assert.deepEqual(await f.control.reload(), { ok: true });
    assert.equal(f.control.registrations.isRegistered('other', origin(8003)), false);
    assert.deepEqual(f.control.registrations.deregister('other', origin(8003), 'test'), { ok: false, reason: 'no-backend' });
  });
});
