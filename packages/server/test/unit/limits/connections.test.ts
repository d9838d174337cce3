import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionCounter, workerGate, type Admission, type ConnectionGate } from '../../../src/limits/connections.ts';

test('an address is counted by IPv4 address or IPv6 /64, and freed on release', () => {
  const c = new ConnectionCounter({ maxTotal: 0, maxPerIp: 2 });
  assert.deepEqual(['2001:db8:1:2::a', '2001:db8:1:2::b', '2001:db8:1:2::c'].map((a) => c.admit(a)), ['admitted', 'admitted', 'over-ip']);
  assert.equal(c.admit('2001:db8:1:3::a'), 'admitted', 'another /64');
  c.release('2001:db8:1:2::b');
  assert.equal(c.admit('2001:db8:1:2::d'), 'admitted');
  assert.equal(c.open, 3);
});

/** A primary that answers later, as over IPC, and records what it was told. */
function primary(answer: Admission): ConnectionGate & { released: string[] } {
  const released: string[] = [];
  return { released, admit: () => Promise.resolve(answer), release: (a) => void released.push(a) };
}

test('with several workers, each holds its share of max_connections itself and asks the primary only per address', async () => {
  const asked = primary('admitted');
  let asks = 0;
  const counting: ConnectionGate = { admit: (a) => (asks++, asked.admit(a)), release: asked.release };
  assert.equal(workerGate({ maxTotal: 0, maxPerIp: 0 }, 2, counting), undefined, 'no limit: no gate at all');
  const totalOnly = workerGate({ maxTotal: 5, maxPerIp: 0 }, 2, counting)!;
  assert.deepEqual([totalOnly.admit('a'), totalOnly.admit('b'), totalOnly.admit('c'), totalOnly.admit('d')], ['admitted', 'admitted', 'admitted', 'over-total']);
  assert.equal(asks, 0, 'the cap in all never asks the primary: ceil(5 / 2) = 3 here');
  const both = workerGate({ maxTotal: 4, maxPerIp: 1 }, 2, counting)!;
  assert.equal(await both.admit('a'), 'admitted');
  assert.equal(asks, 1);
});

test('a connection the primary refuses gives back the worker its slot in all', async () => {
  let answer: Admission = 'over-ip';
  const released: string[] = [];
  const gate = workerGate({ maxTotal: 2, maxPerIp: 1 }, 1, { admit: () => Promise.resolve(answer), release: (a) => void released.push(a) })!;
  assert.equal(await gate.admit('a'), 'over-ip');
  assert.equal(await gate.admit('a'), 'over-ip');
  answer = 'admitted';
  assert.deepEqual([await gate.admit('b'), await gate.admit('c')], ['admitted', 'admitted'], 'both slots were still free');
  assert.equal(await gate.admit('d'), 'over-total');
  gate.release('b');
  assert.deepEqual(released, ['b']);
  assert.equal(await gate.admit('e'), 'admitted');
});
