import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withoutNominated } from '../../../src/http1/fields.ts';
import { downstreamHeaders, normalisePath, scanRequestHead, upstreamHeaders, VIA } from '../../../src/proxy/forwarding.ts';

const fwd = { clientIp: '10.0.0.9', trusted: false, requestId: 'rid' };

function headerMap(flat: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < flat.length; i += 2) (out[flat[i]!.toLowerCase()] ??= []).push(flat[i + 1]!);
  return out;
}

describe('request targets', () => {
  test('an origin-form target keeps its path; the query is not part of the path', () => {
    const head = scanRequestHead('/a/b?x=1', ['Host', 'Example.com:8080'])!;
    assert.equal(head.target, '/a/b?x=1');
    assert.equal(head.path, '/a/b');
    assert.equal(head.host, 'example.com');
  });

  test('an absolute-form target gives the path and replaces the Host header', () => {
    const head = scanRequestHead('http://user@api.example.com:81/x?y', ['Host', 'other'])!;
    assert.equal(head.target, '/x?y');
    assert.equal(head.host, 'api.example.com');
    assert.deepEqual(headerMap(upstreamHeaders(['Host', 'other'], head, fwd))['host'], ['api.example.com:81']);
  });

  test('a target that is neither origin nor absolute form nor * is refused', () => {
    assert.equal(scanRequestHead('example.com:443', []), undefined);
    assert.equal(scanRequestHead('ftp://x/y', []), undefined);
    assert.equal(scanRequestHead('*', [])?.target, '*');
  });

  const paths: Array<[string, string]> = [
    ['/public/../admin/', '/admin/'],
    ['/a/./b', '/a/b'],
    ['//admin//x', '/admin/x'],
    ['/a/b/..', '/a/'],
    ['/../../etc', '/etc'],
  ];
  for (const [raw, normal] of paths) {
    test(`the path ${raw} is matched as ${normal}`, () => {
      assert.equal(normalisePath(raw), normal);
      assert.equal(scanRequestHead(raw, [])!.path, normal);
      assert.equal(scanRequestHead(raw, [])!.target, raw, 'the target itself is forwarded unchanged');
    });
  }
});

describe('upstream headers', () => {
  const raw = [
    'Host', 'h',
    'Connection', 'keep-alive, X-Secret',
    'X-Secret', 's',
    'Keep-Alive', 'timeout=5',
    'TE', 'trailers',
    'X-Forwarded-For', '1.2.3.4',
    'Forwarded', 'for=1.2.3.4',
    'Via', '1.0 edge',
    'Accept', '*/*',
  ];

  test('from an untrusted peer: hop-by-hop, nominated and forwarded claims dropped, ours added', () => {
    const view = withoutNominated(raw, 'keep-alive, X-Secret'); // as DownstreamRequest hands it on
    const out = headerMap(upstreamHeaders(view, scanRequestHead('/', view)!, fwd));
    for (const h of ['connection', 'x-secret', 'keep-alive', 'te', 'forwarded']) assert.equal(out[h], undefined, h);
    assert.deepEqual(out['x-forwarded-for'], ['10.0.0.9']);
    assert.deepEqual(out['x-forwarded-proto'], ['http']);
    assert.deepEqual(out['x-forwarded-host'], ['h']);
    assert.deepEqual(out['via'], [`1.0 edge, ${VIA}`]);
    assert.deepEqual(out['x-request-id'], ['rid']);
    assert.deepEqual(out['accept'], ['*/*']);
  });

  test('from a trusted proxy: its X-Forwarded-For is extended and Forwarded kept', () => {
    const out = headerMap(upstreamHeaders(raw, scanRequestHead('/', raw)!, { ...fwd, trusted: true }));
    assert.deepEqual(out['x-forwarded-for'], ['1.2.3.4, 10.0.0.9']);
    assert.deepEqual(out['forwarded'], ['for=1.2.3.4']);
  });
});

describe('Connection nominations (issue 13 #1, #7)', () => {
  const raw = ['Host', 'h', 'Content-Length', '5', 'Transfer-Encoding', 'chunked', 'Accept-Language', 'fr', 'Cookie', 'c=EUR'];

  test('never remove the fields that route or frame a request', () => {
    const view = withoutNominated(raw, 'host, content-length, transfer-encoding');
    assert.deepEqual(view, raw);
  });

  test('remove other nominated fields from the one view that routing, caching and forwarding read', () => {
    const view = withoutNominated(raw, 'close, accept-language, cookie');
    assert.deepEqual(view, ['Host', 'h', 'Content-Length', '5', 'Transfer-Encoding', 'chunked']);
  });

  test('Content-Length and Transfer-Encoding are never copied upstream: the connection frames the body', () => {
    const out = headerMap(upstreamHeaders(raw, scanRequestHead('/', raw)!, fwd));
    assert.equal(out['content-length'], undefined);
    assert.equal(out['transfer-encoding'], undefined);
  });

  test('a response carries the parsed Content-Length once, never on a 204', () => {
    const dup = ['Content-Length', '3', 'content-length', '3', 'Connection', 'content-length'];
    assert.deepEqual(headerMap(downstreamHeaders(dup, 200, 3))['content-length'], ['3']);
    assert.equal(headerMap(downstreamHeaders(dup, 204, 3))['content-length'], undefined);
    assert.equal(headerMap(downstreamHeaders(dup, 200, -1))['content-length'], undefined);
  });
});

describe('downstream headers', () => {
  test('hop-by-hop fields, those named in any Connection field, are dropped and Via is appended', () => {
    const out = headerMap(
      downstreamHeaders([
        'Connection', 'X-A',
        'Connection', 'X-B',
        'X-A', '1',
        'X-B', '2',
        'Transfer-Encoding', 'chunked',
        'Set-Cookie', 'a=1',
        'Set-Cookie', 'b=2',
        'Via', '1.1 app',
      ], 200, -1),
    );
    assert.equal(out['x-a'], undefined);
    assert.equal(out['x-b'], undefined);
    assert.equal(out['transfer-encoding'], undefined);
    assert.deepEqual(out['set-cookie'], ['a=1', 'b=2']);
    assert.deepEqual(out['via'], [`1.1 app, ${VIA}`]);
  });
});
