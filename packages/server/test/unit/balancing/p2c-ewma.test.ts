import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { P2cEwmaBalancer } from '../../../src/balancing/p2c-ewma.ts';
import type { Outcome } from '../../../src/balancing/balancer.ts';
import type { Backend } from '../../../src/upstream/backend.ts';
import type { ManualClock } from '../../support/fake-time.ts';
import { seededRandom } from '../../../src/time.ts';
import { makeBackends, testDeps } from './fixtures.ts';

interface Running {
  readonly backend: Backend;
  readonly end: number;
  readonly durationMs: number;
  readonly outcome: Outcome;
}

/**
 * Simulated traffic on a manual clock: `perMs` requests start each millisecond, each taking its backend's
 * latency; in-flight counts and outcome reports are kept as the proxy keeps them. Returns each backend's picks.
 */
class Simulation {
  private readonly running: Running[] = [];
  readonly balancer: P2cEwmaBalancer;
  readonly clock: ManualClock;
  latency: (backend: Backend) => number;
  outcome: (backend: Backend) => Outcome = () => 'success';

  constructor(backends: readonly Backend[], latency: (backend: Backend) => number, seed = 7) {
    const deps = testDeps(seed);
    this.clock = deps.clock;
    this.balancer = new P2cEwmaBalancer(deps);
    this.balancer.update(backends);
    this.latency = latency;
  }

  run(ms: number, perMs = 1): Map<Backend, number> {
    const picks = new Map<Backend, number>();
    for (let t = 0; t < ms; t++) {
      for (let k = 0; k < perMs; k++) {
        const backend = this.balancer.pick({})!;
        picks.set(backend, (picks.get(backend) ?? 0) + 1);
        backend.inFlight++;
        this.balancer.onRequestStart(backend);
        const durationMs = this.latency(backend);
        this.running.push({ backend, end: this.clock.now() + durationMs, durationMs, outcome: this.outcome(backend) });
      }
      this.clock.advance(1);
      for (let i = this.running.length - 1; i >= 0; i--) {
        const request = this.running[i]!;
        if (request.end > this.clock.now()) continue;
        this.running.splice(i, 1);
        request.backend.inFlight--;
        this.balancer.onRequestEnd(request.backend, request.outcome, request.durationMs);
      }
    }
    return picks;
  }
}

function share(picks: ReadonlyMap<Backend, number>, backend: Backend): number {
  const total = [...picks.values()].reduce((a, b) => a + b, 0);
  return (picks.get(backend) ?? 0) / total;
}

describe('p2c-ewma', () => {
  test('a backend ten times slower than the others gets under 10% of the requests', () => {
    const backends = makeBackends([1, 1, 1]);
    const slow = backends[2]!;
    const simulation = new Simulation(backends, (b) => (b === slow ? 200 : 20));
    const picks = simulation.run(60_000);
    assert.ok(share(picks, slow) < 0.1, `slow backend's share: ${share(picks, slow)}`);
    assert.ok(share(picks, backends[0]!) > 0.4);
  });

  test('a slow backend that becomes fast again wins back its share as time passes', () => {
    const backends = makeBackends([1, 1, 1]);
    const slow = backends[2]!;
    let recovered = false;
    const simulation = new Simulation(backends, (b) => (b === slow && !recovered ? 200 : 20));
    simulation.run(30_000);
    recovered = true;
    simulation.run(60_000);
    const picks = simulation.run(10_000);
    assert.ok(share(picks, slow) > 0.25, `recovered backend's share: ${share(picks, slow)}`);
  });

  test('at low load, a backend whose last response was slow is tried again as time passes, and wins back its share', () => {
    const [a, b] = makeBackends([1, 1]);
    const { clock, random } = testDeps();
    const balancer = new P2cEwmaBalancer({ clock, random });
    balancer.update([a!, b!]);
    balancer.onRequestEnd(a!, 'success', 10);
    balancer.onRequestEnd(b!, 'success', 100);
    // One request at a time, every 100 ms: in-flight counts stay at 0, only the latency estimates decide.
    const picksOfB = (seconds: number) => {
      let count = 0;
      for (let i = 0; i < seconds * 10; i++) {
        const backend = balancer.pick({})!;
        if (backend === b) count++;
        balancer.onRequestEnd(backend, 'success', 10);
        clock.advance(100);
      }
      return count;
    };
    assert.equal(picksOfB(10), 0);
    picksOfB(50);
    assert.ok(picksOfB(60) > 600 * 0.3);
  });

  test('a backend that fails fast is avoided: failures count as slow', () => {
    const backends = makeBackends([1, 1, 1]);
    const failing = backends[0]!;
    const simulation = new Simulation(backends, (b) => (b === failing ? 1 : 20));
    simulation.outcome = (b) => (b === failing ? 'failure' : 'success');
    const picks = simulation.run(30_000);
    assert.ok(share(picks, failing) < 0.05, `failing backend's share: ${share(picks, failing)}`);
  });

  test('slow answers weigh more than quick ones: of a backend 4 times slower on a tenth of its requests, under 1% of all answers are slow', () => {
    const backends = makeBackends([1, 1, 1]);
    const sometimesSlow = backends[2]!;
    const random = seededRandom(9);
    let slowAnswers = 0;
    const simulation = new Simulation(backends, (b) => (b === sometimesSlow && random.next() < 0.1 ? (slowAnswers++, 8) : 2));
    simulation.run(10_000, 2);
    slowAnswers = 0;
    const picks = simulation.run(50_000, 2);
    const total = [...picks.values()].reduce((a, b) => a + b, 0);
    // With a plain average (slow and quick answers weighing alike) 1.8% were slow.
    assert.ok(slowAnswers / total < 0.01, `slow answers: ${slowAnswers / total} (its share: ${share(picks, sometimesSlow)})`);
  });

  test('of two candidates the cheaper always wins, so with two backends the worse one is never picked', () => {
    const [a, b] = makeBackends([1, 1]);
    const { clock, random } = testDeps();
    const balancer = new P2cEwmaBalancer({ clock, random });
    balancer.update([a!, b!]);
    balancer.onRequestEnd(a!, 'success', 10);
    balancer.onRequestEnd(b!, 'success', 10);
    a!.inFlight = 3;
    for (let i = 0; i < 1_000; i++) assert.equal(balancer.pick({}), b);
  });

  test('cost is divided by weight: at equal latency a backend of weight 4 takes four times the in-flight load', () => {
    const [a, b] = makeBackends([4, 1]);
    const { clock, random } = testDeps();
    const balancer = new P2cEwmaBalancer({ clock, random });
    balancer.update([a!, b!]);
    balancer.onRequestEnd(a!, 'success', 10);
    balancer.onRequestEnd(b!, 'success', 10);
    for (let i = 0; i < 500; i++) balancer.pick({})!.inFlight++;
    assert.ok(Math.abs(a!.inFlight / b!.inFlight - 4) < 0.1, `in flight: ${a!.inFlight} / ${b!.inFlight}`);
  });

  test('a new backend without any sample yet gets traffic at once', () => {
    const backends = makeBackends([1, 1, 1, 1]);
    const simulation = new Simulation(backends.slice(0, 3), () => 20);
    simulation.run(10_000);
    simulation.balancer.update(backends);
    const picks = simulation.run(1_000);
    assert.ok(share(picks, backends[3]!) > 0.15, `new backend's share: ${share(picks, backends[3]!)}`);
  });

  test('a retry never goes to a backend already tried, even the cheapest', () => {
    const backends = makeBackends([1, 1, 1, 1]);
    const { clock, random } = testDeps();
    const balancer = new P2cEwmaBalancer({ clock, random });
    balancer.update(backends);
    backends.forEach((backend, i) => balancer.onRequestEnd(backend, 'success', 10 * (i + 1)));
    const exclude = new Set([backends[0]!, backends[1]!]);
    const seen = new Set<Backend | undefined>();
    for (let i = 0; i < 1_000; i++) seen.add(balancer.pick({ exclude }));
    assert.deepEqual(seen, new Set([backends[2]]));
    assert.equal(balancer.pick({ exclude: new Set(backends.slice(0, 3)) }), backends[3]);
    assert.equal(balancer.pick({ exclude: new Set(backends) }), undefined);
  });

  test('returns undefined when there is no backend, and the only one when there is one', () => {
    const [a] = makeBackends([1]);
    const balancer = new P2cEwmaBalancer(testDeps());
    assert.equal(balancer.pick({}), undefined);
    balancer.update([a!]);
    assert.equal(balancer.pick({}), a);
  });
});
