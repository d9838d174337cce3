import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cacheStatus, type CacheStatusInput } from '../../../src/cache/cache-status.ts';

describe('cacheStatus (RFC 9211)', () => {
  const cases: Array<[string, CacheStatusInput, string]> = [
    ['a fresh hit gives hit and the seconds of freshness left', { hit: true, ttlMs: 42_000 }, 'fulcrum; hit; ttl=42'],
    ['ttl is rounded down to whole seconds', { hit: true, ttlMs: 42_999 }, 'fulcrum; hit; ttl=42'],
    ['a stale entry gives a negative ttl', { hit: true, fwd: 'stale', ttlMs: -1500 }, 'fulcrum; hit; fwd=stale; ttl=-2'],
    ['a stored miss gives fwd=miss and stored', { fwd: 'miss', stored: true }, 'fulcrum; fwd=miss; stored'],
    ['a miss not stored leaves stored out', { fwd: 'miss', stored: false, fwdStatus: 200 }, 'fulcrum; fwd=miss; fwd-status=200'],
    ['a stale entry revalidated by a 304 gives hit, fwd=stale and fwd-status', { hit: true, fwd: 'stale', fwdStatus: 304, ttlMs: 60_000 }, 'fulcrum; hit; fwd=stale; fwd-status=304; ttl=60'],
    ['a Vary miss says so', { fwd: 'vary-miss', stored: true }, 'fulcrum; fwd=vary-miss; stored'],
    ['a URI miss says so', { fwd: 'uri-miss' }, 'fulcrum; fwd=uri-miss'],
    ['a request that asked to go to the origin gives fwd=request', { fwd: 'request', fwdStatus: 200, stored: true }, 'fulcrum; fwd=request; fwd-status=200; stored'],
    ['a coalesced request gives collapsed', { fwd: 'miss', collapsed: true, ttlMs: 10_000 }, 'fulcrum; fwd=miss; ttl=10; collapsed'],
    ['a detail that is a token is written bare', { hit: true, fwd: 'stale', detail: 'FUL_ERR_CONNECT_TIMEOUT' }, 'fulcrum; hit; fwd=stale; detail=FUL_ERR_CONNECT_TIMEOUT'],
    ['a detail that is not a token is a quoted string', { fwd: 'miss', detail: 'too large' }, 'fulcrum; fwd=miss; detail="too large"'],
    ['the key is a quoted string with quotes and backslashes escaped', { hit: true, key: 'GET a"b\\c' }, 'fulcrum; hit; key="GET a\\"b\\\\c"'],
    ['non-printable characters in the key are percent-encoded', { hit: true, key: 'GET\nexample.com\n/é' }, 'fulcrum; hit; key="GET%0Aexample.com%0A/%C3%A9"'],
    ['parameters follow the RFC order whatever the input order', { detail: 'x', key: 'k', collapsed: true, stored: true, ttlMs: 1000, fwdStatus: 200, fwd: 'miss', hit: false }, 'fulcrum; fwd=miss; fwd-status=200; ttl=1; stored; collapsed; key="k"; detail=x'],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assert.equal(cacheStatus(input), expected));
  }

  test('the member goes after the backend\'s Cache-Status', () => {
    assert.equal(cacheStatus({ hit: true, ttlMs: 5000 }, 'OriginCache; hit; ttl=30'), 'OriginCache; hit; ttl=30, fulcrum; hit; ttl=5');
  });

  test('an empty upstream Cache-Status is ignored', () => {
    assert.equal(cacheStatus({ fwd: 'miss' }, '  '), 'fulcrum; fwd=miss');
  });
});
