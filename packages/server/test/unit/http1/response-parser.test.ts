import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResponseParser, ResponseParseError, type ResponseHead } from '../../../src/http1/response-parser.ts';

interface Parsed {
  heads: ResponseHead[];
  body: string;
  complete: boolean;
}

/** Feeds `wire` in pieces cut at `cuts`, as the socket might deliver it. */
function parse(wire: string, cuts: number[] = [], isHead = false): Parsed {
  const out: Parsed = { heads: [], body: '', complete: false };
  const parser = new ResponseParser({ onHead: (h) => out.heads.push(h), onBody: (c) => (out.body += c.toString('latin1')) });
  parser.expect(isHead);
  const bytes = Buffer.from(wire, 'latin1');
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= from) continue;
    if (parser.execute(bytes.subarray(from, cut))) out.complete = true;
    from = cut;
  }
  return out;
}

/** Parses `wire` split at every single position, and in one piece: all must agree. */
function parseEverySplit(wire: string): Parsed {
  const whole = parse(wire);
  for (let i = 1; i < wire.length; i++) {
    assert.deepEqual(parse(wire, [i]), whole, `split at ${i}`);
  }
  return whole;
}

const chunked =
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n' + '5\r\nhello\r\n' + '7;ext=1\r\n, world\r\n' + '0\r\nTrailer: x\r\n\r\n';

describe('the upstream response parser', () => {
  test('reads a content-length response whatever way the bytes are split', () => {
    const r = parseEverySplit('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nhello');
    assert.equal(r.heads[0]!.status, 200);
    assert.deepEqual(r.heads[0]!.headers, ['Content-Length', '5', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
    assert.equal(r.body, 'hello');
    assert.equal(r.complete, true);
    assert.equal(r.heads[0]!.keepAlive, true);
  });

  test('decodes a chunked body with extensions and trailers whatever way the bytes are split', () => {
    const r = parseEverySplit(chunked);
    assert.equal(r.body, 'hello, world');
    assert.equal(r.complete, true);
  });

  test('skips 1xx interim responses and reads the final one', () => {
    const r = parseEverySplit('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok');
    assert.equal(r.heads.length, 1);
    assert.equal(r.heads[0]!.status, 201);
    assert.equal(r.body, 'ok');
  });

  test('a response to HEAD, a 204 and a 304 have no body whatever their headers say', () => {
    assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', [], true).complete, true);
    assert.equal(parse('HTTP/1.1 204 No Content\r\n\r\n').complete, true);
    assert.equal(parse('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n').complete, true);
  });

  test('a body without length runs until the connection closes and the connection is not reused', () => {
    const parser = new ResponseParser({ onHead: () => {}, onBody: () => {} });
    parser.expect(false);
    assert.equal(parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\nsome bytes')), false);
    assert.equal(parser.readsUntilClose, true);
    assert.equal(parser.finish(), true);
    assert.equal(parser.reusable, false);
  });

  test('a truncated body is reported as not complete on close', () => {
    const parser = new ResponseParser({ onHead: () => {}, onBody: () => {} });
    parser.expect(false);
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    assert.equal(parser.finish(), false);
  });

  test('Connection: close and HTTP/1.0 without keep-alive make the connection not reusable', () => {
    assert.equal(parse('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').heads[0]!.keepAlive, false);
    assert.equal(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').heads[0]!.keepAlive, false);
    assert.equal(parse('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').heads[0]!.keepAlive, true);
  });

  const malformed: Array<[string, string]> = [
    ['both Transfer-Encoding and Content-Length', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n'],
    ['conflicting Content-Length values', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n'],
    ['a non-numeric Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\n'],
    ['an obs-folded header', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\n\r\n'],
    ['a space before the colon', 'HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n'],
    ['a bad status line', 'HTTP/2 200 OK\r\n\r\n'],
    ['a two-digit status', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['chunk data longer than announced', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n'],
    ['a NUL in a header value', 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n'],
    ['a control character in a header value (Node would throw on it downstream)', 'HTTP/1.1 200 OK\r\nX-A: a\x01b\r\n\r\n'],
  ];
  for (const [what, wire] of malformed) {
    test(`rejects ${what}`, () => {
      assert.throws(() => parse(wire), ResponseParseError);
    });
  }

  for (const [what, wire, body] of [
    ['a length that undercounts', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab', 'a'],
    ['a 204 with a body (issue 13 #14)', 'HTTP/1.1 204 No Content\r\n\r\nstray', ''],
    ['a 304 with a body (issue 13 #14)', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nstray', ''],
  ] as const) {
    test(`bytes after the end of ${what}: the response is whole, the connection not reusable`, () => {
      const parser = new ResponseParser({ onHead: () => {}, onBody: () => {} });
      parser.expect(false);
      assert.equal(parser.execute(Buffer.from(wire, 'latin1')), true);
      assert.equal(parser.reusable, false);
      assert.equal(parse(wire).body, body);
    });
  }

  test('rejects a response head larger than 64 KiB', () => {
    const huge = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70 * 1024)}`;
    assert.throws(() => parse(huge, [1000, 30_000, 60_000]), /too large/);
  });
});
