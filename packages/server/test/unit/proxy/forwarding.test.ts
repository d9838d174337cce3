import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
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

  test('from an untrusted peer: hop-by-hop and forwarded claims dropped, ours added', () => {
    const out = headerMap(upstreamHeaders(raw, scanRequestHead('/', raw)!, fwd));
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
      ]),
    );
    assert.equal(out['x-a'], undefined);
    assert.equal(out['x-b'], undefined);
    assert.equal(out['transfer-encoding'], undefined);
    assert.deepEqual(out['set-cookie'], ['a=1', 'b=2']);
    assert.deepEqual(out['via'], [`1.1 app, ${VIA}`]);
  });
});
