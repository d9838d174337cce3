import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CODEC_VERSION, decodeStoredResponse, encodeStoredResponse } from '../../../../src/cache/codec.ts';
import { response } from './fixtures.ts';

/** An encoded buffer with its JSON header replaced (lengths fixed up). */
function withHeader(json: string, body = Buffer.from('body')): Buffer {
  const header = Buffer.from(json);
  const prefix = Buffer.from([0x46, 0x43, CODEC_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  prefix.writeUInt32BE(header.length, 4);
  prefix.writeUInt32BE(body.length, 8);
  return Buffer.concat([prefix, header, body]);
}

const validHeader = { url: 'h/p', status: 200, headers: ['a', 'b'], storedAt: 1, tags: [], policy: {} };

describe('stored response codec', () => {
  test('a response survives encoding whole: binary body, non-ASCII header values, tags and policy', () => {
    const value = response();
    assert.deepEqual(decodeStoredResponse(encodeStoredResponse(value)), value);
  });

  test('an empty body and empty lists survive too', () => {
    const value = response({ body: Buffer.alloc(0), headers: [], tags: [], policy: {} });
    assert.deepEqual(decodeStoredResponse(encodeStoredResponse(value)), value);
  });

  test('the body is laid out as raw bytes after the header, not inside the JSON', () => {
    const body = Buffer.alloc(100_000, 0xab);
    const encoded = encodeStoredResponse(response({ body }));
    assert.ok(encoded.subarray(encoded.length - body.length).equals(body));
    assert.ok(encoded.length < body.length + 1000);
  });

  test('the decoded body is a view of the buffer read, not a copy', () => {
    const encoded = encodeStoredResponse(response({ body: Buffer.alloc(20_000, 1) }));
    const decoded = decodeStoredResponse(encoded)!;
    assert.equal(decoded.body.buffer, encoded.buffer);
  });

  test('a value read as a small slice of a large buffer gets a body of its own, so as not to pin the buffer', () => {
    const encoded = encodeStoredResponse(response());
    const socketRead = Buffer.alloc(64 * 1024);
    encoded.copy(socketRead, 100);
    const decoded = decodeStoredResponse(socketRead.subarray(100, 100 + encoded.length))!;
    assert.notEqual(decoded.body.buffer, socketRead.buffer);
    assert.deepEqual(decoded, response());
  });

  const garbage: [string, Buffer | null | undefined][] = [
    ['undefined', undefined],
    ['null', null],
    ['an empty buffer', Buffer.alloc(0)],
    ['a short buffer', Buffer.from('FC')],
    ['another program\'s value', Buffer.from('{"hello":"world", "padding": "............."}')],
    ['another codec version', (() => { const b = encodeStoredResponse(response()); b[2] = CODEC_VERSION + 1; return b; })()],
    ['a truncated value', encodeStoredResponse(response()).subarray(0, 100)],
    ['trailing bytes', Buffer.concat([encodeStoredResponse(response()), Buffer.from('x')])],
    ['a header length beyond the buffer', (() => { const b = encodeStoredResponse(response()); b.writeUInt32BE(0xffffffff, 4); return b; })()],
    ['a header that is not JSON', withHeader('{not json')],
    ['a header that is JSON null', withHeader('null')],
    ['a status that is a string', withHeader(JSON.stringify({ ...validHeader, status: '200' }))],
    ['a status out of range', withHeader(JSON.stringify({ ...validHeader, status: 42 }))],
    ['an odd number of header strings', withHeader(JSON.stringify({ ...validHeader, headers: ['a'] }))],
    ['a header that is a number', withHeader(JSON.stringify({ ...validHeader, headers: ['a', 1] }))],
    ['tags that are not strings', withHeader(JSON.stringify({ ...validHeader, tags: [1] }))],
    ['a policy that is an array', withHeader(JSON.stringify({ ...validHeader, policy: [] }))],
    ['no url', withHeader(JSON.stringify({ ...validHeader, url: undefined }))],
  ];
  for (const [name, buf] of garbage) {
    test(`decoding ${name} answers undefined without throwing`, () => {
      assert.equal(decodeStoredResponse(buf), undefined);
    });
  }

  test('the helper above builds a valid value when given a valid header', () => {
    assert.equal(decodeStoredResponse(withHeader(JSON.stringify(validHeader)))?.body.toString(), 'body');
  });
});
