import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isJson, namesListener, parseAuthority } from '../../../src/admin/guard.ts';

test('parseAuthority takes a Host apart: lower case, no trailing dot, IPv6 canonical without brackets', () => {
  assert.deepEqual(parseAuthority('Admin.Example.COM.:9090'), { hostname: 'admin.example.com', port: 9090 });
  assert.deepEqual(parseAuthority('localhost'), { hostname: 'localhost', port: undefined });
  assert.deepEqual(parseAuthority('[0:0:0:0:0:0:0:1]:80'), { hostname: '::1', port: 80 });
  for (const bad of ['', 'a@b', 'a:b:c', 'a/b', 'a:99999', 'a b', '[::1', 'a:']) assert.equal(parseAuthority(bad), undefined, bad);
});

test('issue 13 #9: namesListener accepts the arrival address and, on loopback, the loopback names, all with its port', () => {
  const loopback = { localAddress: '127.0.0.1', localPort: 9090 };
  const mapped = { localAddress: '::ffff:127.0.0.1', localPort: 9090 };
  const lan = { localAddress: '10.0.0.5', localPort: 9090 };
  const names = (host: string, listener: typeof lan, allowed: string[] = []) => namesListener(parseAuthority(host)!, listener, allowed);
  for (const host of ['127.0.0.1:9090', 'localhost:9090', '[::1]:9090']) {
    assert.equal(names(host, loopback), true, host);
    assert.equal(names(host, mapped), true, `${host} (IPv4-mapped)`);
    assert.equal(names(host, lan), false, `${host} on a LAN address`);
  }
  assert.equal(names('10.0.0.5:9090', lan), true);
  for (const host of ['127.0.0.1:9091', '127.0.0.1', 'rebind.example:9090', '127.0.0.2:9090']) assert.equal(names(host, loopback), false, host);
});

test('issue 13 #9: admin.allowed_hosts names match on any port, name:port entries on that port only', () => {
  const lan = { localAddress: '10.0.0.5', localPort: 9090 };
  const allowed = ['Admin.Example.com', 'prom.internal:9090', '[fd00::1]:8443'];
  const names = (host: string) => namesListener(parseAuthority(host)!, lan, allowed);
  assert.equal(names('admin.example.com'), true);
  assert.equal(names('admin.example.com.:443'), true);
  assert.equal(names('prom.internal:9090'), true);
  assert.equal(names('prom.internal'), false);
  assert.equal(names('prom.internal:9091'), false);
  assert.equal(names('[fd00::1]:8443'), true);
  assert.equal(names('evil.admin.example.com'), false);
});

test('issue 13 #9: isJson accepts application/json with parameters in any case, and nothing else', () => {
  for (const ok of ['application/json', 'Application/JSON; charset=utf-8', ' application/json ;x=y']) assert.equal(isJson(ok), true, ok);
  for (const no of [undefined, '', 'text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/jsonp', 'application/json-seq']) {
    assert.equal(isJson(no), false, String(no));
  }
});
