import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hash32, mix32 } from '../../../src/balancing/hash.ts';

describe('hash32', () => {
  // Pinned: a change here would move every consistent-hash key and void every sticky cookie on upgrade.
  test('is FNV-1a 32 finished by murmur3\'s fmix32, with pinned values', () => {
    assert.equal(mix32(1), 0x514e28b7);
    assert.equal(hash32('a'), mix32(0xe40c292c));
    assert.equal(hash32('198.51.100.7'), 528467260);
  });

  test('a seed gives an unrelated hash of the same string', () => {
    assert.notEqual(hash32('198.51.100.7', 1), hash32('198.51.100.7'));
  });

  test('keys differing in one character spread over the whole range', () => {
    const buckets = new Array<number>(16).fill(0);
    for (let port = 8000; port < 24000; port++) buckets[hash32(`http://127.0.0.1:${port}`) >>> 28]!++;
    for (const count of buckets) assert.ok(Math.abs(count / 1000 - 1) < 0.1, `${buckets}`);
  });
});
