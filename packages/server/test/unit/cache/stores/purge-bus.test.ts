import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalPurgeBus, type Purge } from '../../../../src/cache/purge-bus.ts';
import { DeliveredIds, parsePurgeRecord, PurgeRecorder } from '../../../../src/cache/stores/purge-wire.ts';

const purge: Purge = { kind: 'tag', value: 'product-1', at: 1_700_000_000_000 };

describe('local purge bus', () => {
  test('a purge reaches every subscriber at once, and none after it unsubscribed', async () => {
    const bus = new LocalPurgeBus();
    const a: Purge[] = [];
    const b: Purge[] = [];
    bus.subscribe((p) => a.push(p));
    const unsubscribe = bus.subscribe((p) => b.push(p));
    const published = bus.publish(purge);
    assert.deepEqual([a, b], [[purge], [purge]]);
    await published;
    unsubscribe();
    await bus.publish(purge);
    assert.deepEqual([a.length, b.length], [2, 1]);
  });

  test('a subscriber that throws does not keep the purge from the others', async () => {
    const bus = new LocalPurgeBus();
    const got: Purge[] = [];
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    bus.subscribe(() => {
      throw new Error('boom');
    });
    bus.subscribe((p) => got.push(p));
    await bus.publish(purge);
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    assert.deepEqual(got, [purge]);
    assert.ok(warnings.some((w) => w.includes('boom')));
  });
});

describe('purge records', () => {
  test('a record carries a unique id and its bus\'s origin, and parses back', () => {
    const recorder = new PurgeRecorder();
    const r1 = recorder.record(purge);
    const r2 = recorder.record(purge);
    assert.notEqual(r1.id, r2.id);
    assert.equal(r1.origin, recorder.origin);
    assert.deepEqual(parsePurgeRecord(JSON.parse(JSON.stringify(r1))), r1);
  });

  const invalid: [string, unknown][] = [
    ['null', null],
    ['a string', 'purge'],
    ['an unknown kind', { kind: 'all', value: '', at: 1, id: 'i', origin: 'o' }],
    ['a value that is not a string', { kind: 'url', value: 1, at: 1, id: 'i', origin: 'o' }],
    ['no time', { kind: 'url', value: 'v', id: 'i', origin: 'o' }],
    ['no id', { kind: 'url', value: 'v', at: 1, origin: 'o' }],
  ];
  for (const [name, v] of invalid) {
    test(`${name} is not a purge record`, () => {
      assert.equal(parsePurgeRecord(v), undefined);
    });
  }

  test('an id is new once, and again only after the retention', () => {
    const ids = new DeliveredIds(1000);
    assert.equal(ids.firstTime('a', 0), true);
    assert.equal(ids.firstTime('a', 999), false);
    assert.equal(ids.firstTime('b', 1000), true);
    assert.equal(ids.firstTime('a', 1000), true);
  });
});
