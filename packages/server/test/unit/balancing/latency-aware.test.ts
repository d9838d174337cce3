/**
 * The latency-aware balancers (p2c-ewma, and least-load when no load reports arrive) in closed loops on a
 * manual clock with a seeded random source: the scenarios of `npm run bench:balance`, pinned without timing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Balancer, BalancerDeps } from '../../../src/balancing/balancer.ts';
import { LeastLoadBalancer } from '../../../src/balancing/least-load.ts';
import { P2cEwmaBalancer } from '../../../src/balancing/p2c-ewma.ts';
import type { Backend } from '../../../src/upstream/backend.ts';
import { answersIn, ClosedLoop, failsFast, queueing, share, type Behaviour, type LoopOptions } from './closed-loop.ts';
import { makeBackends, testDeps } from './fixtures.ts';

const ALGORITHMS: Record<string, (deps: BalancerDeps) => Balancer> = {
  'p2c-ewma': (deps) => new P2cEwmaBalancer(deps),
  'least-load without reports': (deps) => new LeastLoadBalancer(deps),
};

function setUp(create: (typeof ALGORITHMS)[string], behaviours: readonly Behaviour[], options: LoopOptions) {
  const backends = makeBackends(behaviours.map(() => 1));
  const deps = testDeps(3);
  const balancer = create(deps);
  balancer.update(backends);
  const byBackend = new Map(backends.map((b, i) => [b, behaviours[i]!]));
  return { backends, loop: new ClosedLoop(balancer, deps.clock, (b) => byBackend.get(b)!, options) };
}

const pct = (x: number) => `${(x * 100).toFixed(3)}%`;

for (const [name, create] of Object.entries(ALGORITHMS)) {
  describe(`latency-aware: ${name}`, () => {
    test('30 clients, backends of 5, 5 and 50 ms: after a warm-up the slow one gets only probes (under 0.1%), the fast ones carry 15 in flight each', () => {
      const { backends, loop } = setUp(create, [answersIn(5), answersIn(5), answersIn(50)], { clients: 30 });
      loop.run(5_000);
      const { picks, meanInFlight } = loop.run(30_000);
      const slow = backends[2]!;
      // Latency × (in flight + 1) gave the slow backend 0.4% here: 16 × 5 ms at the fast ones is more than 50 ms.
      assert.ok(share(picks, slow) < 0.001, `slow backend's share: ${pct(share(picks, slow))}`);
      for (const fast of backends.slice(0, 2)) assert.ok(meanInFlight.get(fast)! > 12, `in flight at ${fast.id}: ${meanInFlight.get(fast)}`);
    });

    test('pauses of the proxy that hold back every answer in flight (30 ms twice a second, or 300 ms every 2 s) still leave the 50 ms backend only probes', () => {
      for (const pauses of [{ everyMs: 500, forMs: 30 }, { everyMs: 2_000, forMs: 300 }]) {
        const { backends, loop } = setUp(create, [answersIn(5), answersIn(5), answersIn(50)], { clients: 30, pauses });
        loop.run(5_000);
        const { picks } = loop.run(30_000);
        // A peak EWMA took every paused answer as the fast backends' latency (2.6% went to the slow one with the
        // short pauses); an average counting the pause's time at the paused answers' value, 1.4% with the long ones.
        assert.ok(share(picks, backends[2]!) < 0.001, `pauses ${pauses.forMs} ms: slow backend's share ${pct(share(picks, backends[2]!))}`);
      }
    });

    test('after two idle minutes, when every estimate has decayed, the 50 ms backend is told apart by its first answers', () => {
      const { backends, loop } = setUp(create, [answersIn(5), answersIn(5), answersIn(50)], { clients: 30 });
      loop.run(5_000);
      loop.drain();
      loop.clock.advance(120_000);
      const { picks } = loop.run(8_000);
      // Counting each answer as at most 4 times the decayed estimate, the 50 ms backend took seconds to tell: 0.4%.
      assert.ok(share(picks, backends[2]!) < 0.002, `slow backend's share: ${pct(share(picks, backends[2]!))}`);
    });

    test('a backend that answers 503 at once gets under 0.1% of the requests, pauses or not', () => {
      for (const pauses of [undefined, { everyMs: 500, forMs: 30 }]) {
        const { backends, loop } = setUp(create, [answersIn(5), answersIn(5), failsFast], { clients: 30, ...(pauses && { pauses }) });
        loop.run(5_000);
        const { picks } = loop.run(30_000);
        assert.ok(share(picks, backends[2]!) < 0.001, `failing backend's share: ${pct(share(picks, backends[2]!))}`);
      }
    });

    test('backends that queue get load in proportion to their capacity: one worker against four gets about a ninth', () => {
      const { backends, loop } = setUp(create, [queueing(4, 5), queueing(4, 5), queueing(1, 5)], { clients: 30 });
      loop.run(5_000);
      const { picks, meanInFlight } = loop.run(20_000);
      const small = share(picks, backends[2]!);
      assert.ok(small > 0.07 && small < 0.15, `the one-worker backend's share: ${pct(small)}`);
      // Its queue stays short: least connections would keep 10 in flight there, 50 ms each.
      assert.ok(meanInFlight.get(backends[2]!)! < 4, `in flight at the one-worker backend: ${meanInFlight.get(backends[2]!)}`);
    });

    test('a queueing backend whose service time grows from 5 to 20 ms gets less load as its latency grows', () => {
      const behaviours = [queueing(2, 5), queueing(2, 5), queueing(2, 5)];
      const { backends, loop } = setUp(create, behaviours, { clients: 18 });
      loop.run(5_000);
      const before = share(loop.run(10_000).picks, backends[2]!);
      behaviours[2] = queueing(2, 20);
      loop.behaviour = (b) => behaviours[backends.indexOf(b)]!;
      loop.run(5_000);
      const after = share(loop.run(10_000).picks, backends[2]!);
      assert.ok(before > 0.28, `share before: ${pct(before)}`);
      assert.ok(after < before / 2, `share after: ${pct(after)} (before ${pct(before)})`);
    });
  });
}

describe('latency model', () => {
  test('a backend whose answers become four times slower loses most of its traffic within a second', () => {
    const behaviours = [answersIn(10), answersIn(10), answersIn(10)];
    const backends: Backend[] = makeBackends([1, 1, 1]);
    const deps = testDeps(5);
    const balancer = new P2cEwmaBalancer(deps);
    balancer.update(backends);
    const loop = new ClosedLoop(balancer, deps.clock, (b) => behaviours[backends.indexOf(b)]!, { clients: 6 });
    loop.run(5_000);
    behaviours[0] = answersIn(40);
    loop.run(1_000);
    const after = share(loop.run(2_000).picks, backends[0]!);
    assert.ok(after < 0.1, `share after it slowed: ${pct(after)}`);
  });

  test('a backend that holds requests without answering does not get cheaper as time passes', () => {
    const [hung, slow] = makeBackends([1, 1]);
    const deps = testDeps();
    const balancer = new P2cEwmaBalancer(deps);
    balancer.update([hung!, slow!]);
    balancer.onRequestEnd(hung!, 'success', 10);
    balancer.onRequestEnd(slow!, 'success', 100);
    hung!.inFlight = 1; // sent, never answered
    deps.clock.advance(60_000);
    // The idle backend's estimate has decayed towards 0 and it is tried again; the hung one's has not.
    for (let i = 0; i < 100; i++) assert.equal(balancer.pick({}), slow);
  });

  test('one failure among successes costs a backend little; failures in a row take it out of rotation', () => {
    const behaviours: Behaviour[] = [answersIn(50), answersIn(50), answersIn(50)];
    const backends: Backend[] = makeBackends([1, 1, 1]);
    const deps = testDeps(5);
    const balancer = new P2cEwmaBalancer(deps);
    balancer.update(backends);
    // One client, 50 ms answers: each backend sees an answer every 150 ms or so.
    const loop = new ClosedLoop(balancer, deps.clock, (b) => behaviours[backends.indexOf(b)]!, { clients: 1 });
    loop.run(5_000);
    balancer.onRequestEnd(backends[0]!, 'failure', 50); // an error among its answers
    const afterOne = share(loop.run(5_000).picks, backends[0]!);
    // A peak EWMA took it as a 1 s answer: the backend got nothing for half a minute.
    assert.ok(afterOne > 0.2, `share after one failure: ${pct(afterOne)}`);
    behaviours[0] = { latencyMs: () => 50, outcome: 'failure' };
    loop.run(1_000);
    const failing = share(loop.run(20_000).picks, backends[0]!);
    assert.ok(failing < 0.01, `share while failing: ${pct(failing)}`);
  });
});
