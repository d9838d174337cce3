/**
 * The contract every balancer keeps, run against each algorithm the config accepts, built as the server
 * builds them: through the registry, from a parsed pool config.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Balancer, BalancerContext } from '../../src/balancing/balancer.ts';
import { createBalancer } from '../../src/balancing/registry.ts';
import { stickyToken } from '../../src/balancing/sticky.ts';
import { ALGORITHMS, PoolConfigSchema, type AlgorithmName } from '../../src/config/schema.ts';
import { Backend } from '../../src/upstream/backend.ts';
import { seededRandom } from '../../src/time.ts';
import { ManualClock } from '../support/fake-time.ts';

const URLS = Array.from({ length: 6 }, (_, i) => `http://127.0.0.1:${9001 + i}`);

function setUp(algorithm: AlgorithmName) {
  const backends = URLS.map((url, i) => new Backend({ url, weight: 1 + (i % 3), maxConnections: 1024 }));
  const pool = PoolConfigSchema.parse({ algorithm, backends: URLS.map((url, i) => ({ url, weight: 1 + (i % 3) })) });
  const clock = new ManualClock();
  const balancer = createBalancer(pool, { clock, random: seededRandom(11) });
  return { backends, balancer, clock };
}

/** Varied requests: keys that are hash keys, sticky tokens naming each backend (current or gone), or none. */
function request(i: number, backends: readonly Backend[], exclude?: ReadonlySet<Backend>): BalancerContext {
  const key = i % 4 === 0 ? stickyToken(backends[i % backends.length]!) : i % 4 === 1 ? 'unknown' : i % 4 === 2 ? `client-${i}` : undefined;
  return { key, exclude };
}

/** Picks as the proxy does: reports the start and end of each request, some failing, with time passing. */
function serve(balancer: Balancer, clock: ManualClock, ctx: BalancerContext, i: number): Backend | undefined {
  const backend = balancer.pick(ctx);
  if (backend === undefined) return undefined;
  backend.inFlight++;
  balancer.onRequestStart?.(backend);
  // The duration reported is the time that passed, as the proxy measures it.
  const durationMs = 5 + (i % 7);
  clock.advance(durationMs);
  backend.inFlight--;
  balancer.onRequestEnd?.(backend, i % 17 === 0 ? 'failure' : 'success', durationMs);
  return backend;
}

for (const algorithm of ALGORITHMS) {
  describe(`balancer contract: ${algorithm}`, () => {
    test('returns undefined before any update and when no backend is eligible', () => {
      const { backends, balancer } = setUp(algorithm);
      assert.equal(balancer.pick(request(0, backends)), undefined);
      balancer.update(backends);
      balancer.update([]);
      for (let i = 0; i < 20; i++) assert.equal(balancer.pick(request(i, backends)), undefined);
    });

    test('only returns backends given to the last update', () => {
      const { backends, balancer, clock } = setUp(algorithm);
      balancer.update(backends.slice(0, 4));
      balancer.update(backends.slice(2));
      const allowed = new Set(backends.slice(2));
      for (let i = 0; i < 3_000; i++) {
        const backend = serve(balancer, clock, request(i, backends), i);
        assert.ok(backend !== undefined && allowed.has(backend), `pick ${i}: ${backend?.id}`);
      }
    });

    test('never returns a backend already tried while another is left', () => {
      const { backends, balancer, clock } = setUp(algorithm);
      balancer.update(backends);
      const random = seededRandom(5);
      for (let i = 0; i < 3_000; i++) {
        const exclude = new Set(backends.filter(() => random.next() < 0.5));
        if (exclude.size === backends.length) exclude.delete(backends[i % backends.length]!);
        const backend = serve(balancer, clock, request(i, backends, exclude), i);
        assert.ok(backend !== undefined && !exclude.has(backend), `pick ${i}: ${backend?.id}`);
      }
    });

    test('returns undefined when every eligible backend was already tried', () => {
      const { backends, balancer } = setUp(algorithm);
      balancer.update(backends.slice(0, 3));
      // Also tried: a backend that is not eligible, which must not count as one left.
      const exclude = new Set(backends.slice(0, 4));
      for (let i = 0; i < 100; i++) assert.equal(balancer.pick(request(i, backends, exclude)), undefined);
    });

    test('a backend removed by an update is never returned, even for keys and cookies that led to it', () => {
      const { backends, balancer, clock } = setUp(algorithm);
      balancer.update(backends);
      const removed = backends[1]!;
      const led = new Set<number>();
      for (let i = 0; i < 2_000; i++) if (serve(balancer, clock, request(i, backends), i) === removed) led.add(i);
      assert.ok(led.size > 0);
      balancer.update(backends.filter((backend) => backend !== removed));
      for (let i = 0; i < 2_000; i++) {
        assert.notEqual(serve(balancer, clock, request(i, backends), i), removed, `pick ${i}`);
        assert.notEqual(balancer.pick({ key: `client-${i}` }), removed);
        assert.notEqual(balancer.pick({ key: stickyToken(removed) }), removed);
      }
    });

    test('every backend gets some traffic over many varied requests', () => {
      const { backends, balancer, clock } = setUp(algorithm);
      balancer.update(backends);
      const counts = new Map<Backend | undefined, number>();
      for (let i = 0; i < 6_000; i++) {
        const backend = serve(balancer, clock, request(i, backends), i);
        counts.set(backend, (counts.get(backend) ?? 0) + 1);
      }
      for (const backend of backends) assert.ok((counts.get(backend) ?? 0) > 6_000 / 100, `${backend.id}: ${counts.get(backend)}`);
    });
  });
}
