import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LimitsHub, PrimaryLimits, type LimitsAsk } from '../../../src/limits/ipc.ts';
import { ManualClock } from '../../../test/support/fake-time.ts';

/** Two workers and a primary, wired as cluster.ts wires them, without processes (messages cloned as IPC would). */
function cluster(limits = { maxTotal: 3, maxPerIp: 2 }) {
  const clock = new ManualClock();
  const hub = new LimitsHub(clock, 1000, limits);
  const sent: LimitsAsk[] = [];
  const worker = (id: number): PrimaryLimits => {
    const w: PrimaryLimits = new PrimaryLimits((msg) => {
      sent.push(msg);
      const answer = hub.handle(id, structuredClone(msg));
      if (answer !== undefined) setImmediate(() => w.answered(structuredClone(answer)));
    }, clock);
    return w;
  };
  return { clock, hub, sent, a: worker(1), b: worker(2) };
}

test('everything a worker asks in one turn of its event loop goes in one message', async () => {
  const { a, sent } = cluster();
  const policy = { intervalMs: 1000, burst: 5 };
  const decisions = await Promise.all([a.store.take('k', policy), a.store.take('k', policy), a.gate.admit('192.0.2.1')]);
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0]!.take, [1, 'k', 1000, 5, 2, 'k', 1000, 5]);
  assert.deepEqual(decisions.slice(0, 2).map((d) => (typeof d === 'string' ? d : d.remaining)), [4, 3]);
  assert.equal(decisions[2], 'admitted');
});

test('two workers share one limit: the primary counts for the instance', async () => {
  const { a, b } = cluster();
  const policy = { intervalMs: 60_000, burst: 3 };
  const got = [await a.store.take('route', policy), await b.store.take('route', policy), await a.store.take('route', policy), await b.store.take('route', policy)];
  assert.deepEqual(got.map((d) => d.allowed), [true, true, true, false]);
});

test('connections are limited per address and in all, across workers, and freed when they close', async () => {
  const { a, b } = cluster();
  assert.equal(await a.gate.admit('192.0.2.1'), 'admitted');
  assert.equal(await b.gate.admit('192.0.2.1'), 'admitted');
  assert.equal(await a.gate.admit('192.0.2.1'), 'over-ip');
  assert.equal(await b.gate.admit('192.0.2.2'), 'admitted');
  assert.equal(await a.gate.admit('192.0.2.3'), 'over-total');
  a.gate.release('192.0.2.1');
  assert.equal(await b.gate.admit('192.0.2.1'), 'admitted', 'the release reached the primary before the next ask');
});

test("a worker that dies takes its connections with it: the primary frees their slots", async () => {
  const { a, b, hub } = cluster();
  await a.gate.admit('192.0.2.1');
  await a.gate.admit('192.0.2.1');
  assert.equal(await b.gate.admit('192.0.2.1'), 'over-ip');
  hub.workerGone(1);
  assert.equal(await b.gate.admit('192.0.2.1'), 'admitted');
  assert.equal(await b.gate.admit('192.0.2.1'), 'admitted');
});

test('an address whose connections were refused or let through unanswered is not released twice', async () => {
  const { a, b } = cluster({ maxTotal: 0, maxPerIp: 1 });
  await a.gate.admit('192.0.2.1');
  a.gate.release('192.0.2.1');
  a.gate.release('192.0.2.1'); // e.g. one admitted on its own (failed open): unknown to the primary
  assert.equal(await b.gate.admit('192.0.2.1'), 'admitted');
  assert.equal(await b.gate.admit('192.0.2.1'), 'over-ip');
});

test('without an answer from the primary within a second, a worker lets the request and the connection through', async () => {
  const clock = new ManualClock();
  const silent = new PrimaryLimits(() => {}, clock);
  const decision = silent.store.take('k', { intervalMs: 1000, burst: 1 });
  const admission = silent.gate.admit('192.0.2.1');
  clock.advance(999);
  silent.expireOverdue();
  assert.equal(silent.failedOpen, 0);
  clock.advance(1);
  silent.expireOverdue();
  assert.equal((await decision).allowed, true);
  assert.equal(await admission, 'admitted');
  assert.equal(silent.failedOpen, 2);
  await silent.store.close();
});
