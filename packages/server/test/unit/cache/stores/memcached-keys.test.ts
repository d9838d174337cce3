import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HASHED_MARK, MAX_KEY_BYTES, MAX_RELATIVE_TTL_SECONDS, isValidKeyPrefix, memcachedKey, memcachedTtlSeconds } from '../../../../src/cache/stores/memcached-keys.ts';

describe('memcached keys', () => {
  test('a short printable key is the prefix and the key', () => {
    assert.equal(memcachedKey('fulcrum:', 'GET:example.com/a?b=1'), 'fulcrum:GET:example.com/a?b=1');
  });

  const hashed: [string, string][] = [
    ['longer than 250 bytes with the prefix', 'a'.repeat(MAX_KEY_BYTES - 'fulcrum:'.length + 1)],
    ['with a space', 'GET example.com/'],
    ['with a newline', 'a\r\nset evil 0 0 1'],
    ['with a control character', 'a\u0000b'],
    ['with DEL', 'a\u007fb'],
    ['non-ASCII', 'example.com/café'],
    ['starting with the hash mark', `${HASHED_MARK}abc`],
  ];
  for (const [name, key] of hashed) {
    test(`a key ${name} is hashed into a legal key`, () => {
      const k = memcachedKey('fulcrum:', key);
      assert.ok(k.startsWith(`fulcrum:${HASHED_MARK}`), k);
      assert.ok(Buffer.byteLength(k) <= MAX_KEY_BYTES);
      assert.match(k, /^[\x21-\x7e]+$/);
    });
  }

  test('a key of exactly 250 bytes with the prefix is kept as it is', () => {
    const key = 'a'.repeat(MAX_KEY_BYTES - 'fulcrum:'.length);
    assert.equal(memcachedKey('fulcrum:', key), `fulcrum:${key}`);
  });

  test('distinct keys give distinct memcached keys, hashed or not', () => {
    const keys = ['a', 'a ', 'a  ', 'x'.repeat(300), 'x'.repeat(301), `${HASHED_MARK}a`, memcachedKey('', 'a b')];
    const mapped = keys.map((k) => memcachedKey('p:', k));
    assert.equal(new Set(mapped).size, keys.length);
  });

  test('prefixes must be printable and leave room for a hashed key', () => {
    assert.ok(isValidKeyPrefix('fulcrum:'));
    assert.ok(isValidKeyPrefix(''));
    assert.ok(!isValidKeyPrefix('ful crum:'));
    assert.ok(!isValidKeyPrefix('x'.repeat(240)));
  });

  const ttls: [number, number][] = [
    [1, 1],
    [999, 1],
    [1000, 1],
    [1001, 2],
    [60_000, 60],
    [MAX_RELATIVE_TTL_SECONDS * 1000, MAX_RELATIVE_TTL_SECONDS],
    [MAX_RELATIVE_TTL_SECONDS * 1000 + 1, MAX_RELATIVE_TTL_SECONDS],
    [365 * 24 * 3600 * 1000, MAX_RELATIVE_TTL_SECONDS],
    [0, 0],
    [-1, 0],
    [Number.NaN, 0],
  ];
  for (const [ms, s] of ttls) {
    test(`a time to live of ${ms} ms is ${s} s for memcached`, () => {
      assert.equal(memcachedTtlSeconds(ms), s);
    });
  }
});
