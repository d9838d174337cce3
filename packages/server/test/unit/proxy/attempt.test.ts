import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Balancer, BalancerContext, Outcome } from '../../../src/balancing/balancer.ts';
import { PoolConfigSchema } from '../../../src/config/schema.ts';
import { FulcrumError } from '../../../src/errors.ts';
import { startAttempt, type Attempt } from '../../../src/proxy/attempt.ts';
import { ManualClock } from '../../../src/time.ts';
import { Backend } from '../../../src/upstream/backend.ts';
import { UpstreamConnections } from '../../../src/upstream/connections.ts';
import { Pool } from '../../../src/upstream/pool.ts';
import { RetryBudget } from '../../../src/upstream/retry-budget.ts';
import { unscannedHead } from '../../../src/proxy/forwarding.ts';

/** Picks the first backend not excluded, and records what the pool tells it. */
class RecordingBalancer implements Balancer {
  readonly events: string[] = [];
  private eligible: readonly Backend[] = [];
  update(eligible: readonly Backend[]): void {
    this.eligible = eligible;
  }
  pick(ctx: BalancerContext): Backend | undefined {
    return this.eligible.find((b) => !ctx.exclude?.has(b));
  }
  onRequestStart(backend: Backend): void {
    this.events.push(`start ${backend.port}`);
  }
  onRequestEnd(backend: Backend, outcome: Outcome, durationMs: number): void {
    this.events.push(`end ${backend.port} ${outcome} ${durationMs}`);
  }
}

function poolOf(options: { maxConnections?: number; maxPending?: number; passive?: boolean } = {}) {
  const config = PoolConfigSchema.parse({
    backends: [{ url: 'http://127.0.0.1:8001' }, { url: 'http://[::1]:8002' }],
    circuit_breaker: { max_connections: options.maxConnections ?? 10, max_pending: options.maxPending ?? 0 },
    health: options.passive ? { passive: { consecutive_failures: 5 } } : {},
  });
  const clock = new ManualClock(1000);
  const connections = new UpstreamConnections();
  const members = config.backends.map((b) => {
    const backend = new Backend({ url: b.url, weight: 1, maxConnections: config.circuit_breaker.max_connections });
    return { backend, client: connections.clientFor('p', backend, config) };
  });
  const balancer = new RecordingBalancer();
  const pool = new Pool('p', config, members, balancer, new RetryBudget(0.2, 3, clock));
  const reports: string[] = [];
  const deps = { clock, reportOutcome: (name: string, backend: Backend, outcome: Outcome) => reports.push(`${name} ${backend.port} ${outcome}`) };
  return { pool, balancer, clock, deps, reports };
}

describe('starting a try (attempt.ts): the one way requests, refreshes and upgrades reach a backend', () => {
  test('counts the try in flight and tells the balancer at its start and its end, with its duration', () => {
    const { pool, balancer, clock, deps } = poolOf();
    const attempt = startAttempt(pool, { key: undefined }, deps) as Attempt;
    assert.equal(attempt.backend.inFlight, 1);
    clock.advance(25);
    attempt.end('failure');
    attempt.end('success'); // once only
    assert.equal(attempt.backend.inFlight, 0);
    assert.deepEqual(balancer.events, ['start 8001', 'end 8001 failure 25']);
  });

  test('a tunnel reports the latency of its answer, not its lifetime', () => {
    const { pool, balancer, clock, deps } = poolOf();
    const attempt = startAttempt(pool, { key: undefined }, deps) as Attempt;
    clock.advance(5);
    attempt.answered();
    clock.advance(60_000);
    attempt.end('success');
    assert.deepEqual(balancer.events, ['start 8001', 'end 8001 success 5']);
  });

  test('passive health hears the outcome only when the pool has passive checks', () => {
    const without = poolOf();
    (startAttempt(without.pool, { key: undefined }, without.deps) as Attempt).end('failure');
    assert.deepEqual(without.reports, []);
    const withPassive = poolOf({ passive: true });
    (startAttempt(withPassive.pool, { key: undefined }, withPassive.deps) as Attempt).end('failure');
    assert.deepEqual(withPassive.reports, ['p 8001 failure']);
  });

  test('beyond max_connections a try waits in the pool queue until granted or ended; a full queue is 503', () => {
    const { pool, deps } = poolOf({ maxConnections: 1, maxPending: 1 });
    const first = startAttempt(pool, { key: undefined }, deps) as Attempt;
    const second = startAttempt(pool, { key: undefined }, deps) as Attempt;
    assert.notEqual(second.backend, first.backend, 'a backend with a free connection is preferred');
    const queued = startAttempt(pool, { key: undefined }, deps) as Attempt;
    assert.equal(pool.pending, 1);
    const refused = startAttempt(pool, { key: undefined }, deps);
    assert.ok(refused instanceof FulcrumError && refused.code === 'FUL_ERR_CIRCUIT_OPEN');
    queued.leaveQueue();
    assert.equal(pool.pending, 0);
    queued.end('success');
    assert.equal(pool.pending, 0, 'leaving the queue twice counts once');
    const again = startAttempt(pool, { key: undefined }, deps) as Attempt;
    again.end('success');
    assert.equal(pool.pending, 0, 'ending a queued try leaves the queue');
    first.end('success');
    second.end('success');
  });

  test('no backend left to try is FUL_ERR_NO_BACKEND', () => {
    const { pool, deps } = poolOf();
    const result = startAttempt(pool, { key: undefined, exclude: new Set(pool.backends) }, deps);
    assert.ok(result instanceof FulcrumError && result.code === 'FUL_ERR_NO_BACKEND');
  });

  test('a request without Host gets the backend authority (HTTP/1.0), an IPv6 one in brackets', () => {
    const { pool, deps } = poolOf();
    const first = startAttempt(pool, { key: undefined }, deps) as Attempt;
    const ipv6 = startAttempt(pool, { key: undefined, exclude: new Set([first.backend]) }, deps) as Attempt;
    const head = unscannedHead('/');
    assert.deepEqual(ipv6.headersFor(head, ['accept', '*/*']), ['accept', '*/*', 'host', '[::1]:8002']);
    head.hostHeader = 'example.com';
    assert.deepEqual(first.headersFor(head, ['host', 'example.com']), ['host', 'example.com']);
    assert.equal(ipv6.backend.host, '::1', 'dialled without brackets');
  });
});
