import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LeastLoadBalancer, REPORT_TTL_MS } from '../../../src/balancing/least-load.ts';
import { reportedUtilization } from '../../../src/proxy/load-report.ts';
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

  test('without reports it goes by its own in-flight counts, weighted', () => {
    const balancer = new LeastLoadBalancer(testDeps());
    const [a, b] = makeBackends([1, 1]);
    balancer.update([a!, b!]);
    a!.inFlight = 6;
    const counts = countPicks(balancer, 1000);
    assert.equal(counts.get(a) ?? 0, 0);
    assert.equal(counts.get(b), 1000);
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
  test('the utilization is read from X-Fulcrum-Load whatever the case of its name, capped at 1', () => {
    assert.equal(reportedUtilization(['Content-Type', 'text/plain', 'X-Fulcrum-Load', 'inflight=3, utilization=0.42']), 0.42);
    assert.equal(reportedUtilization(['x-fulcrum-load', 'utilization=3']), 1);
    assert.equal(reportedUtilization(['x-fulcrum-load', 'inflight=3']), undefined);
    assert.equal(reportedUtilization(['x-other', 'utilization=0.5']), undefined);
  });
});
