import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { addressBucket, clientAddress, compileLimitKey, parseForwardedAddress, type KeyedRequest } from '../../../src/limits/key.ts';

/** 10.0.0.0/8 and 2001:db8:ffff::/48 are our proxies. */
const trusted = new BlockList();
trusted.addSubnet('10.0.0.0', 8, 'ipv4');
trusted.addSubnet('2001:db8:ffff::', 48, 'ipv6');
const isTrusted = (ip: string) => trusted.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4');

test('an untrusted peer is the client, whatever X-Forwarded-For it sends', () => {
  assert.equal(clientAddress('203.0.113.9', '1.2.3.4', isTrusted), '203.0.113.9');
});

test('behind a trusted proxy, the right-most address that is not a trusted proxy is the client', () => {
  assert.equal(clientAddress('10.0.0.1', '203.0.113.7', isTrusted), '203.0.113.7');
  // The client wrote 6.6.6.6 itself; the proxies appended 198.51.100.2 and then themselves.
  assert.equal(clientAddress('10.0.0.1', '6.6.6.6, 198.51.100.2, 10.0.0.7, 10.1.2.3', isTrusted), '198.51.100.2');
  assert.equal(clientAddress('10.0.0.1', '6.6.6.6,198.51.100.2', isTrusted), '198.51.100.2');
});

test('when every forwarded address is trusted, the left-most is the client (as real_ip_recursive)', () => {
  assert.equal(clientAddress('10.0.0.1', '10.9.9.9, 10.0.0.2', isTrusted), '10.9.9.9');
});

test('a malformed entry stops the walk at the last good address', () => {
  assert.equal(clientAddress('10.0.0.1', '198.51.100.2, not-an-ip', isTrusted), '10.0.0.1');
  assert.equal(clientAddress('10.0.0.1', 'garbage, 10.0.0.3', isTrusted), '10.0.0.3');
  assert.equal(clientAddress('10.0.0.1', '', isTrusted), '10.0.0.1');
});

test('forwarded entries are read with ports, brackets and IPv4-mapped IPv6 in one form', () => {
  assert.equal(parseForwardedAddress(' 198.51.100.2:4711 '), '198.51.100.2');
  assert.equal(parseForwardedAddress('[2001:db8::1]:443'), '2001:db8::1');
  assert.equal(parseForwardedAddress('2001:db8::1'), '2001:db8::1');
  assert.equal(parseForwardedAddress('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(parseForwardedAddress('unknown'), undefined);
  assert.equal(parseForwardedAddress('[2001:db8::1'), undefined);
  assert.equal(clientAddress('2001:db8:ffff::1', '2001:db8:1:2:3:4:5:6, [2001:db8:ffff::2]:80', isTrusted), '2001:db8:1:2:3:4:5:6');
});

test('IPv6 clients are counted by /64, IPv4 clients by address', () => {
  assert.equal(addressBucket('192.0.2.1'), '192.0.2.1');
  assert.equal(addressBucket('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressBucket('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
  assert.equal(addressBucket('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(addressBucket('::1'), '0:0:0:0::/64');
  assert.equal(addressBucket('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(addressBucket('::ffff:1.2.3.4'), '0:0:0:0::/64');
});

function request(headers: Record<string, string>, clientIp = '192.0.2.10', forwardedFor?: string): KeyedRequest {
  return { clientIp, forwardedFor, header: (name) => headers[name] };
}

test('keys: by address, by header, by cookie, or one for the whole route', () => {
  const never = () => false;
  assert.equal(compileLimitKey('ip')(request({}), never), '@192.0.2.10');
  assert.equal(compileLimitKey('ip')(request({}, '10.0.0.1', '198.51.100.2'), isTrusted), '@198.51.100.2');
  assert.equal(compileLimitKey('header:X-Api-Key')(request({ 'x-api-key': 'k1' }), never), '=k1');
  assert.equal(compileLimitKey('cookie:session')(request({ cookie: 'a=1; session=s9' }), never), '=s9');
  assert.equal(compileLimitKey('route')(request({ 'x-api-key': 'k1' }, '192.0.2.99'), never), '');
});

test('a request without the keyed header or cookie is counted by its address, not let through', () => {
  const never = () => false;
  assert.equal(compileLimitKey('header:x-api-key')(request({}), never), '@192.0.2.10');
  assert.equal(compileLimitKey('header:x-api-key')(request({ 'x-api-key': '' }), never), '@192.0.2.10');
  assert.equal(compileLimitKey('cookie:session')(request({ cookie: 'other=1' }), never), '@192.0.2.10');
});

test('a header value cannot pose as an address, and long values are hashed', () => {
  const never = () => false;
  assert.notEqual(compileLimitKey('header:x-api-key')(request({ 'x-api-key': '@192.0.2.10' }), never), '@192.0.2.10');
  const long = compileLimitKey('header:x-api-key')(request({ 'x-api-key': 'x'.repeat(10_000) }), never);
  assert.ok(long.length < 64, long);
  assert.notEqual(long, compileLimitKey('header:x-api-key')(request({ 'x-api-key': 'y'.repeat(10_000) }), never));
});
