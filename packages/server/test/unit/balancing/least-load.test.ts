import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LeastLoadBalancer, REPORT_TTL_MS } from '../../../src/balancing/least-load.ts';
import { reportedLoad } from '../../../src/proxy/load-report.ts';
import { countPicks, makeBackends, testDeps } from './fixtures.ts';

describe('least-load', () => {
  test('a backend that reports itself busy gets far less traffic than idle peers', () => {
    const deps = testDeps();
    const balancer = new LeastLoadBalancer(deps);
    const [idle1, idle2, busy] = makeBackends([1, 1, 1]);
    balancer.update([idle1!, idle2!, busy!]);
    balancer.onLoadReport(idle1!, 0.1);
    balancer.onLoadReport(idle2!, 0.1);
    balancer.onLoadReport(busy!, 1);
    const counts = countPicks(balancer, 3000);
    assert.ok((counts.get(busy) ?? 0) === 0, `busy got ${counts.get(busy)} of 3000`);
    assert.ok((counts.get(idle1) ?? 0) > 1200 && (counts.get(idle2) ?? 0) > 1200);
  });

  test('without reports or answers yet, it goes by in-flight counts, weighted', () => {
    const balancer = new LeastLoadBalancer(testDeps());
    const [a, b] = makeBackends([1, 1]);
    balancer.update([a!, b!]);
    a!.inFlight = 6;
    const counts = countPicks(balancer, 1000);
    assert.equal(counts.get(a) ?? 0, 0);
    assert.equal(counts.get(b), 1000);
  });

  test('a backend that stopped answering (so stopped reporting) fills up in its own view: the larger load counts', () => {
    const balancer = new LeastLoadBalancer(testDeps());
    const [hung, busyish] = makeBackends([1, 1]);
    balancer.update([hung!, busyish!]);
    balancer.onLoadReport(hung!, 0); // its last report: idle
    balancer.onLoadReport(busyish!, 0.3);
    assert.ok((countPicks(balancer, 500).get(hung) ?? 0) > 450, 'idle by its report: it wins');
    hung!.inFlight = 6; // then six requests sent to it get no answer: 0.75 of its assumed capacity
    assert.equal(countPicks(balancer, 500).get(hung) ?? 0, 0);
  });

  test('a report older than its time to live stops counting, and the own view takes over', () => {
    const deps = testDeps();
    const balancer = new LeastLoadBalancer(deps);
    const [a, b] = makeBackends([1, 1]);
    balancer.update([a!, b!]);
    balancer.onLoadReport(a!, 1);
    assert.equal(countPicks(balancer, 500).get(a) ?? 0, 0);
    deps.clock.advance(REPORT_TTL_MS + 1);
    const later = countPicks(balancer, 1000);
    assert.ok((later.get(a) ?? 0) > 400, `a is tried again: ${later.get(a)}`);
  });
});

describe('load reports', () => {
  test('the load is read from X-Fulcrum-Load whatever the case of its name, without the request it answers', () => {
    assert.equal(reportedLoad(['Content-Type', 'text/plain', 'X-Fulcrum-Load', 'inflight=4, utilization=0.5']), 0.375);
    assert.equal(reportedLoad(['x-fulcrum-load', 'inflight=1, utilization=0.12']), 0, 'a lone request leaves an idle backend');
    assert.equal(reportedLoad(['x-fulcrum-load', 'utilization=0.42']), 0.42, 'without inflight, as reported');
  });

  test('an overloaded backend may report more than 1, within a bound; a report without utilization is none', () => {
    assert.equal(reportedLoad(['x-fulcrum-load', 'utilization=3']), 3);
    assert.equal(reportedLoad(['x-fulcrum-load', 'utilization=100000']), 100);
    assert.equal(reportedLoad(['x-fulcrum-load', 'inflight=3']), undefined);
    assert.equal(reportedLoad(['x-other', 'utilization=0.5']), undefined);
  });
});
