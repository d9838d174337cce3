import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Http1ParseError } from '../../../src/http1/errors.ts';
import { HeadReader } from '../../../src/http1/head-reader.ts';
import { parseRequestHead, UnsupportedExpectation } from '../../../src/http1/request-parser.ts';

const head = (text: string) => parseRequestHead(text);

describe('the downstream request head parser', () => {
  test('reads method, target, version, fields and framing', () => {
    const h = head('POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-A: 1');
    assert.equal(h.method, 'POST');
    assert.equal(h.target, '/a?b=1');
    assert.equal(h.minor, 1);
    assert.deepEqual(h.fields.raw, ['Host', 'x', 'Content-Length', '5', 'X-A', '1']);
    assert.deepEqual(h.framing, { kind: 'length', length: 5 });
    assert.equal(h.keepAlive, true);
  });

  test('keep-alive follows the version and Connection', () => {
    assert.equal(head('GET / HTTP/1.1\r\nHost: x\r\nConnection: close').keepAlive, false);
    assert.equal(head('GET / HTTP/1.0').keepAlive, false);
    assert.equal(head('GET / HTTP/1.0\r\nConnection: Keep-Alive').keepAlive, true);
  });

  test('a chunked body is framed as chunked, Expect: 100-continue noted, an upgrade recognised', () => {
    const h = head('PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue');
    assert.deepEqual(h.framing, { kind: 'chunked' });
    assert.equal(h.expectContinue, true);
    assert.equal(head('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket').upgrade, true);
    assert.equal(head('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket').upgrade, false, 'Upgrade without Connection: upgrade');
  });

  const refused: Array<[string, string]> = [
    ['Transfer-Encoding with Content-Length (smuggling)', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked'],
    ['Transfer-Encoding whose final coding is not chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip'],
    ['Transfer-Encoding on HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked'],
    ['two different Content-Length values', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4'],
    ['a Content-Length that is not a number', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -3'],
    ['no Host on HTTP/1.1', 'GET / HTTP/1.1\r\nX-A: 1'],
    ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b'],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2'],
    ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost : x'],
    ['a control character in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x07b'],
    ['a bad method', 'G(T / HTTP/1.1\r\nHost: x'],
    ['a target with a control character', 'GET /a\x01b HTTP/1.1\r\nHost: x'],
    ['a missing target', 'GET HTTP/1.1\r\nHost: x'],
    ['HTTP/2 in a request line', 'GET / HTTP/2.0\r\nHost: x'],
    ['a lower-case version', 'GET / http/1.1\r\nHost: x'],
  ];
  for (const [what, text] of refused) {
    test(`refuses ${what}`, () => {
      assert.throws(() => head(text), Http1ParseError);
    });
  }

  test('an expectation other than 100-continue is refused as such (417)', () => {
    assert.throws(() => head('GET / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok'), UnsupportedExpectation);
  });
});

describe('the head reader', () => {
  test('finds a head split at any byte, and the offset after it', () => {
    const wire = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\nNEXT');
    for (let cut = 1; cut < wire.length - 4; cut++) {
      const reader = new HeadReader(1024);
      assert.equal(reader.read(wire.subarray(0, cut), 0), undefined, `cut ${cut}`);
      const read = reader.read(wire.subarray(cut), 0)!;
      assert.equal(read.head, 'GET / HTTP/1.1\r\nHost: x');
      assert.equal(wire.subarray(cut).subarray(read.next).toString(), 'NEXT');
    }
  });

  test('refuses a head over its limit, whole or in pieces, as too large', () => {
    const big = Buffer.from(`GET / HTTP/1.1\r\nX: ${'a'.repeat(2000)}\r\n\r\n`);
    assert.throws(() => new HeadReader(1024).read(big, 0), (e: Http1ParseError) => e.tooLarge);
    const reader = new HeadReader(1024);
    assert.throws(() => {
      for (let i = 0; i < big.length; i += 100) reader.read(big.subarray(i, i + 100), 0);
    }, (e: Http1ParseError) => e.tooLarge);
  });
});
