import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StickyBalancer, stickyToken } from '../../../src/balancing/sticky.ts';
import { makeBackends, testDeps } from './fixtures.ts';

describe('sticky', () => {
  test('a backend\'s token is short, stable, distinct from the others\' and does not show its address', () => {
    const backends = makeBackends(Array(50).fill(1));
    const tokens = backends.map(stickyToken);
    assert.equal(new Set(tokens).size, 50);
    assert.deepEqual(makeBackends(Array(50).fill(1)).map(stickyToken), tokens);
    // Hex digits only: no dot or colon of an address can appear.
    for (const token of tokens) assert.match(token, /^[0-9a-f]{16}$/);
  });

  test('a request with a backend\'s token always goes to that backend', () => {
    const backends = makeBackends([1, 1, 1]);
    const balancer = new StickyBalancer(testDeps());
    balancer.update(backends);
    const stickyValue = stickyToken(backends[1]!);
    for (let i = 0; i < 20; i++) assert.equal(balancer.pick({ key: stickyValue }), backends[1]);
  });

  test('a request without a token, or with an unknown one, goes round robin', () => {
    const backends = makeBackends([1, 1, 1]);
    const balancer = new StickyBalancer(testDeps());
    balancer.update(backends);
    const picks = [undefined, 'nonsense', undefined, 'ffffffffffffffff', undefined, ''].map((stickyValue) =>
      balancer.pick({ key: stickyValue }),
    );
    assert.equal(new Set(picks.slice(0, 3)).size, 3);
    assert.deepEqual(picks.slice(3), picks.slice(0, 3));
  });

  test('the token of a backend that left falls back to an eligible backend', () => {
    const backends = makeBackends([1, 1, 1]);
    const balancer = new StickyBalancer(testDeps());
    balancer.update(backends);
    const stickyValue = stickyToken(backends[0]!);
    balancer.update(backends.slice(1));
    for (let i = 0; i < 10; i++) assert.notEqual(balancer.pick({ key: stickyValue }), backends[0]);
    assert.ok(backends.slice(1).includes(balancer.pick({ key: stickyValue })!));
  });

  test('a retry leaves the pinned backend once it was tried', () => {
    const backends = makeBackends([1, 1]);
    const balancer = new StickyBalancer(testDeps());
    balancer.update(backends);
    const stickyValue = stickyToken(backends[0]!);
    assert.equal(balancer.pick({ key: stickyValue, exclude: new Set([backends[0]!]) }), backends[1]);
    assert.equal(balancer.pick({ key: stickyValue, exclude: new Set(backends) }), undefined);
  });

  test('returns undefined when there is no backend', () => {
    const balancer = new StickyBalancer(testDeps());
    assert.equal(balancer.pick({ key: stickyToken(makeBackends([1])[0]!) }), undefined);
  });
});

describe('sticky balancer hooks', () => {
  const view = (cookie: string | undefined) => ({ clientIp: '127.0.0.1', path: '/', header: (n: string) => (n === 'cookie' ? cookie : undefined) });

  test('keyOf reads its own cookie among others', () => {
    const balancer = new StickyBalancer(testDeps(), { cookie: 'pin', ttlMs: 0 });
    assert.equal(balancer.keyOf(view('a=1; pin=abc; b=2')), 'abc');
    assert.equal(balancer.keyOf(view('a=1')), undefined);
    assert.equal(balancer.keyOf(view(undefined)), undefined);
  });

  test('responseFields pins the client unless its cookie already names the backend', () => {
    const backends = makeBackends([1, 1]);
    const balancer = new StickyBalancer(testDeps(), { cookie: 'pin', ttlMs: 3_600_000 });
    const token = stickyToken(backends[0]!);
    assert.deepEqual(balancer.responseFields(backends[0]!, undefined), ['set-cookie', `pin=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600`]);
    assert.equal(balancer.responseFields(backends[0]!, token), undefined);
    assert.deepEqual(balancer.responseFields(backends[0]!, stickyToken(backends[1]!))?.[0], 'set-cookie');
  });
});
