import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRate } from '../../../src/config/units.ts';
import { compilePolicy, rateLimitFields } from '../../../src/limits/policy.ts';

test('rates are a whole count per whole seconds, minutes, hours or days', () => {
  assert.deepEqual(parseRate('100/s'), { count: 100, periodMs: 1000 });
  assert.deepEqual(parseRate('100/1m'), { count: 100, periodMs: 60_000 });
  assert.deepEqual(parseRate(' 5 / 10s '), { count: 5, periodMs: 10_000 });
  assert.deepEqual(parseRate('1000/h'), { count: 1000, periodMs: 3_600_000 });
  assert.deepEqual(parseRate('10000/d'), { count: 10_000, periodMs: 86_400_000 });
  for (const bad of ['0/s', '100', '100/ms', '100/500ms', '1.5/s', '100/0s', '-1/s', '100/m/s']) assert.equal(parseRate(bad), undefined, bad);
});

const policy = compilePolicy('api', { rate: { count: 100, periodMs: 60_000 }, burst: 20, key: 'ip', headers: true });

test('the policy follows draft-ietf-httpapi-ratelimit-headers-11: quota per window, and our burst as a vendor parameter', () => {
  assert.equal(policy.intervalMs, 600);
  assert.equal(policy.burst, 20);
  assert.equal(policy.policyField, '"api";q=100;w=60;fulcrum-burst=20');
});

test('the burst defaults to the rate\'s count', () => {
  assert.equal(compilePolicy('p', { rate: { count: 7, periodMs: 1000 }, key: 'route', headers: false }).burst, 7);
});

test('an allowed request is told what is left and in how many whole seconds the burst is back', () => {
  assert.deepEqual(rateLimitFields(policy, { allowed: true, remaining: 12, retryAfterMs: 0, resetMs: 4_200.5 }), [
    'ratelimit-policy',
    '"api";q=100;w=60;fulcrum-burst=20',
    'ratelimit',
    '"api";r=12;t=5',
  ]);
});

test('a refusal carries Retry-After in whole seconds (at least 1) and the same t with r=0', () => {
  const fields = rateLimitFields(policy, { allowed: false, remaining: 0, retryAfterMs: 1_000.1, resetMs: 12_000 });
  assert.deepEqual(fields, ['retry-after', '2', 'ratelimit-policy', '"api";q=100;w=60;fulcrum-burst=20', 'ratelimit', '"api";r=0;t=2']);
  const soon = rateLimitFields(policy, { allowed: false, remaining: 0, retryAfterMs: 0.2, resetMs: 12_000 });
  assert.equal(soon[1], '1');
});
