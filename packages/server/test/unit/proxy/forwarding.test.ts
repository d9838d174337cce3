import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withoutNominated } from '../../../src/http1/fields.ts';
import { downstreamHeaders, type ScannedHead, scanRequestHead, upstreamHeaders, VIA } from '../../../src/proxy/forwarding.ts';
import { Refused } from '../../../src/uri.ts';

const fwd = { clientIp: '10.0.0.9', trusted: false, requestId: 'rid', secure: false };

function headerMap(flat: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < flat.length; i += 2) (out[flat[i]!.toLowerCase()] ??= []).push(flat[i + 1]!);
  return out;
}

/** The head of a request Fulcrum accepts. */
function scan(url: string, raw: readonly string[] = [], method = 'GET'): ScannedHead {
  const head = scanRequestHead(method, url, raw);
  assert.ok(!(head instanceof Refused), head instanceof Refused ? head.reason : '');
  return head;
}

/** Why Fulcrum refuses a request, or undefined when it takes it. */
function refusal(url: string, raw: readonly string[] = [], method = 'GET'): string | undefined {
  const head = scanRequestHead(method, url, raw);
  return head instanceof Refused ? head.reason : undefined;
}

describe('request targets', () => {
  test('an origin-form target keeps its path; the query is not part of the path', () => {
    const head = scan('/a/b?x=1', ['Host', 'Example.com:8080']);
    assert.equal(head.target, '/a/b?x=1');
    assert.equal(head.path, '/a/b');
    assert.equal(head.host, 'example.com');
  });

  test('an absolute-form target gives the path and replaces the Host header', () => {
    const head = scan('http://user@api.example.com:81/x?y', ['Host', 'other']);
    assert.equal(head.target, '/x?y');
    assert.equal(head.host, 'api.example.com');
    assert.deepEqual(headerMap(upstreamHeaders(['Host', 'other'], head, fwd))['host'], ['api.example.com:81']);
  });

  test('issue 13 #14d: a target that is neither origin nor absolute form nor OPTIONS * is refused', () => {
    assert.match(refusal('example.com:443', [], 'CONNECT')!, /CONNECT/);
    assert.match(refusal('/x', [], 'CONNECT')!, /CONNECT/, 'CONNECT in any form: Fulcrum opens no tunnels');
    assert.match(refusal('example.com:443')!, /unsupported/);
    assert.match(refusal('ftp://x/y')!, /unsupported/);
    assert.match(refusal('*')!, /OPTIONS only/);
    assert.match(refusal('*', [], 'POST')!, /OPTIONS only/);
    assert.equal(scan('*', ['Host', 'h'], 'OPTIONS').target, '*');
    assert.match(refusal('/a#frag')!, /fragment/);
  });

  const paths: Array<[string, string]> = [
    ['/public/../admin/', '/admin/'],
    ['/a/./b', '/a/b'],
    ['//admin//x', '/admin/x'],
    ['/a/b/..', '/a/'],
    ['/%61dmin/x', '/admin/x'],
  ];
  for (const [raw, normal] of paths) {
    test(`issue 13 #6: the path ${raw} is routed, keyed and forwarded as ${normal}`, () => {
      assert.equal(scan(raw).path, normal);
      assert.equal(scan(raw).target, normal);
      assert.equal(scan(`${raw}?q=/../x`).target, `${normal}?q=/../x`, 'the query goes as it came');
      assert.equal(scan(`http://h${raw}`).target, normal);
    });
  }

  test('issue 13 #6: a path a backend could read otherwise than Fulcrum is refused', () => {
    for (const path of ['/../../etc', '/a/%2e%2e/b', '/a%2fb', '/a%5Cb', '/a\\b', '/public/..;/admin/']) {
      assert.notEqual(refusal(path), undefined, path);
    }
  });

  test('issue 13 #8, #14a: the Host is keyed and forwarded in normal form, a non-default port kept', () => {
    assert.equal(scan('/', ['Host', 'Example.COM.:8081']).hostHeader, 'example.com:8081');
    assert.equal(scan('/', ['Host', 'example.com.']).host, 'example.com');
    assert.equal(scan('/', ['Host', 'example.com:80']).hostHeader, 'example.com');
    const out = headerMap(upstreamHeaders(['Host', 'Example.com.'], scan('/', ['Host', 'Example.com.']), fwd));
    assert.deepEqual(out['host'], ['example.com']);
    assert.deepEqual(out['x-forwarded-host'], ['example.com']);
    assert.deepEqual(headerMap(upstreamHeaders(['Host', 'h:81'], scan('/', ['Host', 'h:81']), fwd))['host'], ['h:81']);
    assert.match(refusal('/', ['Host', 'a/b'])!, /host/);
  });
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
    const out = headerMap(upstreamHeaders(view, scan('/', view), fwd));
    for (const h of ['connection', 'x-secret', 'keep-alive', 'te', 'forwarded']) assert.equal(out[h], undefined, h);
    assert.deepEqual(out['x-forwarded-for'], ['10.0.0.9']);
    assert.deepEqual(out['x-forwarded-proto'], ['http']);
    assert.deepEqual(out['x-forwarded-host'], ['h']);
    assert.deepEqual(out['via'], [`1.0 edge, ${VIA}`]);
    assert.deepEqual(out['x-request-id'], ['rid']);
    assert.deepEqual(out['accept'], ['*/*']);
  });

  test('a request that came over TLS says https, unless a trusted proxy in front said otherwise', () => {
    const untrusted = headerMap(upstreamHeaders(raw, scan('/', raw), { ...fwd, secure: true }));
    assert.deepEqual(untrusted['x-forwarded-proto'], ['https']);
    const claimed = ['Host', 'h', 'X-Forwarded-Proto', 'http'];
    assert.deepEqual(headerMap(upstreamHeaders(claimed, scan('/', claimed), { ...fwd, secure: true }))['x-forwarded-proto'], ['https']);
    assert.deepEqual(headerMap(upstreamHeaders(claimed, scan('/', claimed), { ...fwd, secure: true, trusted: true }))['x-forwarded-proto'], ['http']);
  });

  test('from a trusted proxy: its X-Forwarded-For is extended and Forwarded kept', () => {
    const out = headerMap(upstreamHeaders(raw, scan('/', raw), { ...fwd, trusted: true }));
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
    const out = headerMap(upstreamHeaders(raw, scan('/', raw), fwd));
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
