import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hostOf, normaliseAuthority, normalisePath, Refused } from '../../src/uri.ts';

/** [path as received, normal form] */
const NORMAL: Array<[string, string]> = [
  ['/', '/'],
  ['/catalogue/item2', '/catalogue/item2'],
  ['/anything/../catalogue/item2', '/catalogue/item2'],
  ['/public/../admin/', '/admin/'],
  ['/a/./b', '/a/b'],
  ['/a/b/.', '/a/b/'],
  ['/a/b/..', '/a/'],
  ['/a/..', '/'],
  ['/.', '/'],
  ['//admin//x', '/admin/x'],
  ['/a//', '/a/'],
  ['//', '/'],
  ['/a/b/../../c', '/c'],
  ['/.well-known/x', '/.well-known/x'],
  ['/a/...', '/a/...'],
  ['/a/.b/..c', '/a/.b/..c'],
  ['/a;b=1/c', '/a;b=1/c'],
  // RFC 3986 §6.2.2.2: escapes of unreserved characters are those characters.
  ['/%61dmin/%7Euser', '/admin/~user'],
  ['/file%2ejson', '/file.json'],
  // §6.2.2.1: the other escapes stay, with upper-case hex digits.
  ['/caf%c3%a9', '/caf%C3%A9'],
  ['/a%20b', '/a%20b'],
  ['/%252e%252e/x', '/%252e%252e/x'], // %25 is '%': decoded once by the backend, to a name
];

/** Paths a backend could read as another path than Fulcrum routes and keys. */
const REFUSED: string[] = [
  '/..',
  '/../etc/passwd',
  '/a/../../b',
  '//..',
  '/a/%2e%2e/b',
  '/a/%2E%2E/b',
  '/a/.%2e/b',
  '/a/%2e./b',
  '/a/%2e/b',
  '/a%2fb',
  '/a%2Fb',
  '/a%5cb',
  '/a%5Cb',
  '/a\\b',
  '/a\\..\\b',
  '/public/..;/admin/',
  '/public/.;x/admin/',
  '/a%zzb',
  '/a%2',
];

describe('path normalisation (issue 13 #6)', () => {
  for (const [raw, normal] of NORMAL) {
    test(`issue 13 #6: ${raw} is ${normal}`, () => {
      assert.equal(normalisePath(raw), normal);
      assert.equal(normalisePath(normal), normal, 'the normal form is a fixed point');
    });
  }

  for (const raw of REFUSED) {
    test(`issue 13 #6: ${raw} is refused`, () => {
      assert.ok(normalisePath(raw) instanceof Refused);
    });
  }

  test('a path already in normal form is returned as it is, not copied', () => {
    const path = '/catalogue/item2';
    assert.equal(normalisePath(path), path);
  });
});

/** [Host value, default port, normal form] */
const AUTHORITIES: Array<[string, number, string]> = [
  ['example.com', 80, 'example.com'],
  ['Example.COM', 80, 'example.com'],
  ['example.com.', 80, 'example.com'],
  ['example.com.:8081', 80, 'example.com:8081'],
  ['example.com:80', 80, 'example.com'],
  ['example.com:080', 80, 'example.com'],
  ['example.com:', 80, 'example.com'],
  ['example.com:8081', 80, 'example.com:8081'],
  ['example.com:443', 443, 'example.com'],
  ['example.com:80', 443, 'example.com:80'],
  ['127.0.0.1:3000', 80, '127.0.0.1:3000'],
  ['[::1]:8080', 80, '[::1]:8080'],
  ['[FE80::1]', 80, '[fe80::1]'],
  ['', 80, ''],
  ['example.com:00081', 80, 'example.com:81'],
  ['example.com:65535', 80, 'example.com:65535'],
];

describe('authority normalisation (issue 13 #8, #14a)', () => {
  for (const [raw, port, normal] of AUTHORITIES) {
    test(`issue 13 #8: Host ${JSON.stringify(raw)} (default port ${port}) is ${JSON.stringify(normal)}`, () => {
      assert.equal(normaliseAuthority(raw, port), normal);
    });
  }

  for (const raw of ['a/b', 'a b', 'a@b', 'exa%6dple.com', '.', ':8080', 'example.com:99999', 'example.com:8x', '[::1', 'a:1:2']) {
    test(`issue 13 #8: Host ${JSON.stringify(raw)} is refused`, () => {
      assert.ok(normaliseAuthority(raw) instanceof Refused);
    });
  }

  test('hostOf gives the host without its port, IPv6 literals with their brackets', () => {
    assert.equal(hostOf('example.com:8081'), 'example.com');
    assert.equal(hostOf('example.com'), 'example.com');
    assert.equal(hostOf('[::1]:8080'), '[::1]');
  });
});
