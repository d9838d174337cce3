/** How an HTTP/2 stream's head becomes the request the pipeline reads (downstream/http2/request.ts readHead). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readHead, type H2Head } from '../../../src/downstream/http2/request.ts';

const pseudo = (method = 'GET', path = '/p?q=1', authority: string | null = 'shop.example.com') => [
  ':method',
  method,
  ':scheme',
  'https',
  ...(authority === null ? [] : [':authority', authority]),
  ':path',
  path,
];

function read(raw: string[], ended = true, max = 16 * 1024): H2Head {
  const head = readHead(raw, ended, max);
  assert.equal(typeof head, 'object', `refused: ${String(head)}`);
  return head as H2Head;
}

test('method and target come from :method and :path; pseudo-header fields are not forwarded', () => {
  const head = read([...pseudo('DELETE', '/items/7?x=1'), 'accept', '*/*']);
  assert.equal(head.method, 'DELETE');
  assert.equal(head.path, '/items/7?x=1');
  assert.deepEqual(head.fields, ['host', 'shop.example.com', 'accept', '*/*']);
});

test(':authority becomes Host, first; a Host naming the same authority is not repeated', () => {
  assert.deepEqual(read([...pseudo(), 'host', 'SHOP.example.com', 'a', '1']).fields, ['host', 'shop.example.com', 'a', '1']);
});

test('a Host naming another authority than :authority is refused (RFC 9113 §8.3.1)', () => {
  assert.equal(readHead([...pseudo(), 'host', 'other.example'], true, 16384), 'host-mismatch');
});

test('without :authority the Host field is kept as sent', () => {
  assert.deepEqual(read([...pseudo('GET', '/', null), 'host', 'h.example']).fields, ['host', 'h.example']);
});

test('cookie fields are joined with "; " into one (RFC 9113 §8.2.3)', () => {
  const head = read([...pseudo(), 'cookie', 'a=1', 'x', 'y', 'cookie', 'b=2']);
  assert.deepEqual(head.fields, ['host', 'shop.example.com', 'x', 'y', 'cookie', 'a=1; b=2']);
});

test('framing: none when END_STREAM came with the head, a length when Content-Length says one, else chunked', () => {
  assert.deepEqual(read([...pseudo('POST'), 'content-length', '12'], true).framing, { kind: 'none' });
  assert.deepEqual(read([...pseudo('POST'), 'content-length', '12'], false).framing, { kind: 'length', length: 12 });
  assert.deepEqual(read([...pseudo('POST'), 'content-length', '0'], false).framing, { kind: 'length', length: 0 });
  assert.deepEqual(read([...pseudo('POST')], false).framing, { kind: 'chunked' });
});

test('Expect: 100-continue is noted (answered when the body is first read)', () => {
  assert.equal(read([...pseudo('PUT'), 'expect', '100-Continue'], false).expectContinue, true);
  assert.equal(read([...pseudo('PUT')], false).expectContinue, false);
});

test('the field list is measured as RFC 9113 §6.5.2 does (name + value + 32 per field, pseudo-fields included)', () => {
  const base = pseudo();
  const baseSize = base.reduce((n, s) => n + s.length, 0) + (base.length / 2) * 32;
  const value = 'v'.repeat(100);
  const one = baseSize + 'x-a'.length + value.length + 32;
  assert.equal(typeof readHead([...base, 'x-a', value], true, one), 'object');
  assert.equal(readHead([...base, 'x-a', value], true, one - 1), 'too-large');
});

test('CONNECT (no :path) has its authority as target, which the pipeline refuses like HTTP/1.1', () => {
  const head = read([':method', 'CONNECT', ':authority', 'backend.example:443']);
  assert.equal(head.method, 'CONNECT');
  assert.equal(head.path, 'backend.example:443');
});
