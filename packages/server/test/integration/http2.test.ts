/**
 * HTTP/2 to clients (h2c with prior knowledge), through the same pipeline as HTTP/1.1, to HTTP/1.1 backends:
 * a real node:http2 client, real backends, what reaches them asserted.
 */
import assert from 'node:assert/strict';
import http2, { type ClientHttp2Session } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { closedPort, startBackend, type TestBackend } from '../support/backend.ts';
import { makeCa, makeCert, type TestCa, type TestCert } from '../support/certs.ts';
import { httpsGet } from '../support/tls-client.ts';
import { eventually, startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';
import { h2connect, h2request } from '../support/h2-client.ts';
import { ErrorCode, Flag, FrameType, frame, hpack, RawH2, requestHead, rstStream } from '../support/h2-frames.ts';

let backend: TestBackend;
let fulcrum: InProcessFulcrum;
let session: ClientHttp2Session;
/** Requests the backend holds unanswered (path /hold), and whether they were closed by Fulcrum before the answer. */
const held: Array<{ closed: boolean }> = [];

before(async () => {
  backend = await startBackend('origin');
  backend.handle((req, res, body) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/hold') {
      const entry = { closed: false };
      held.push(entry);
      res.on('close', () => (entry.closed = !res.writableFinished));
      return;
    }
    if (path === '/cached') {
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' });
      return void res.end(`cached #${backend.count()}`);
    }
    if (path === '/hop-by-hop') {
      // Fields an HTTP/2 response must not carry (RFC 9113 §8.2.2), and a field repeated that node holds single.
      res.setHeader('content-type', ['text/plain', 'text/html']);
      res.setHeader('keep-alive', 'timeout=5');
      res.setHeader('upgrade', 'h2c');
      res.setHeader('proxy-connection', 'keep-alive');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      return void res.end('fields');
    }
    if (path === '/slow') return void setTimeout(() => res.end('slow answer'), 300);
    if (path === '/large') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return void res.end(Buffer.alloc(1024 * 1024, 0x61));
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, url: req.url, length: body.length, body: body.toString(), headers: req.headers }));
  });
  const dead = await closedPort();
  fulcrum = await startFulcrum({
    http2: { h2c: true },
    log: { level: 'info', access: true },
    limits: { max_body_size: '64kb' },
    pools: {
      p: { backends: [{ url: backend.url }] },
      slow: { backends: [{ url: backend.url }], timeouts: { client_body: '300ms' } },
      down: { backends: [{ url: `http://127.0.0.1:${dead}` }], retries: { attempts: 0 } },
    },
    routes: [
      { match: { path_prefix: '/down' }, pool: 'down' },
      { match: { path_prefix: '/slow-body' }, pool: 'slow' },
      { match: { path_prefix: '/cached' }, pool: 'p', cache: { ttl: '60s' } },
      { match: {}, pool: 'p' },
    ],
  });
  session = await h2connect(fulcrum.url);
});

after(async () => {
  session?.close();
  await fulcrum?.stop();
  await backend?.close();
});

type Echo = { method: string; url: string; length: number; body: string; headers: Record<string, string> };
const echo = (body: string) => JSON.parse(body) as Echo;

describe('HTTP/2 (h2c) through the pipeline', () => {
  test('a GET goes to the backend over HTTP/1.1 with :authority as Host, the target and its query', async () => {
    const res = await h2request(session, { ':path': '/get?q=1', ':authority': 'shop.example.com', accept: 'text/plain' });
    assert.equal(res.status, 200);
    const seen = echo(res.body);
    assert.equal(seen.method, 'GET');
    assert.equal(seen.url, '/get?q=1');
    assert.equal(seen.headers.host, 'shop.example.com');
    assert.equal(seen.headers.accept, 'text/plain');
    assert.equal(seen.headers['content-length'], undefined, 'a body-less GET has no framing field');
    assert.equal(seen.headers['transfer-encoding'], undefined);
  });

  test('a POST with Content-Length is sent with that length; one without is chunked upstream', async () => {
    const sized = echo((await h2request(session, { ':method': 'POST', ':path': '/post', 'content-length': '11' }, 'hello world')).body);
    assert.equal(sized.body, 'hello world');
    assert.equal(sized.headers['content-length'], '11');
    assert.equal(sized.headers['transfer-encoding'], undefined);
    const big = 'x'.repeat(50_000); // several DATA frames, under limits.max_body_size
    const streamed = echo((await h2request(session, { ':method': 'POST', ':path': '/post' }, [big, 'tail'])).body);
    assert.equal(streamed.length, big.length + 4);
    assert.equal(streamed.headers['transfer-encoding'], 'chunked');
    assert.equal(streamed.headers['content-length'], undefined);
  });

  test('a POST whose HEADERS end the stream reaches the backend with content-length: 0', async () => {
    const seen = echo((await h2request(session, { ':method': 'POST', ':path': '/empty' })).body);
    assert.equal(seen.headers['content-length'], '0');
    assert.equal(seen.length, 0);
  });

  test('a response body of 1 MiB comes whole through flow control', async () => {
    const res = await h2request(session, { ':path': '/large' });
    assert.equal(res.body.length, 1024 * 1024);
  });

  test('a HEAD response carries the head only', async () => {
    const res = await h2request(session, { ':method': 'HEAD', ':path': '/head' });
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
  });

  test('200 concurrent streams on one session all get their own answer', async () => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => h2request(session, { ':method': 'POST', ':path': `/many/${i}` }, `body ${i}`)),
    );
    answers.forEach((res, i) => {
      assert.equal(res.status, 200);
      const seen = echo(res.body);
      assert.equal(seen.url, `/many/${i}`);
      assert.equal(seen.body, `body ${i}`);
    });
  });

  test('a cacheable response is served from the cache on the second request', async () => {
    const first = await h2request(session, { ':path': '/cached' });
    const second = await h2request(session, { ':path': '/cached' });
    assert.equal(second.body, first.body);
    assert.match(String(second.headers['cache-status']), /hit/);
    assert.equal(backend.requests.filter((r) => r.url === '/cached').length, 1);
  });

  test('the backend gets a request id, X-Forwarded-For/-Proto/-Host and Via 2; the client gets the same request id', async () => {
    const res = await h2request(session, { ':path': '/ids', ':authority': 'api.example.com', 'x-forwarded-for': '203.0.113.9' });
    const seen = echo(res.body);
    assert.match(seen.headers['x-request-id']!, /^[0-9a-f]{32}$/);
    assert.equal(res.headers['x-request-id'], seen.headers['x-request-id']);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'an untrusted peer\'s X-Forwarded-For is replaced');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'api.example.com');
    assert.equal(seen.headers.via, '2 fulcrum', 'Via names the protocol received (RFC 9110 §7.6.3)');
    assert.equal(res.headers.via, '1.1 fulcrum', 'the response came from the backend over HTTP/1.1');
  });

  test('cookies split over several fields reach the backend as one Cookie (RFC 9113 §8.2.3)', async () => {
    const res = await h2request(session, { ':path': '/cookies', cookie: ['a=1', 'b=2'] });
    assert.equal(echo(res.body).headers.cookie, 'a=1; b=2');
  });

  test('connection-specific fields of the backend are dropped, a repeated single field joined, Set-Cookie kept apart', async () => {
    const res = await h2request(session, { ':path': '/hop-by-hop' });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'fields');
    for (const name of ['connection', 'keep-alive', 'upgrade', 'proxy-connection', 'transfer-encoding']) assert.equal(res.headers[name], undefined, name);
    assert.equal(res.headers['content-type'], 'text/plain, text/html');
    assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
  });

  test('a backend that refuses connections gets a 502 with its code and the request id', async () => {
    const res = await h2request(session, { ':path': '/down/x' });
    assert.equal(res.status, 502);
    assert.match(res.body, /FUL_ERR_CONNECT_FAILED/);
    assert.ok(res.headers['x-request-id']);
  });

  test('a client that cancels its stream (RST_STREAM) frees the backend request', async () => {
    const before = held.length;
    const req = session.request({ ':path': '/hold' });
    req.on('error', () => {});
    await eventually(() => held.length === before + 1, 5000, 'the request to reach the backend');
    req.close(http2.constants.NGHTTP2_CANCEL);
    await eventually(() => held[before]!.closed, 5000, 'the backend request to be closed');
    const res = await h2request(session, { ':path': '/after-cancel' });
    assert.equal(res.status, 200);
  });

  test('a Host naming another authority than :authority is refused with 400 (RFC 9113 §8.3.1)', async () => {
    const res = await h2request(session, { ':path': '/mismatch', ':authority': 'a.example', host: 'b.example' });
    assert.equal(res.status, 400);
  });

  test('a plain CONNECT is refused with 400, and an extended CONNECT (RFC 8441) is reset without harm to the session', async () => {
    const res = await h2request(session, { ':method': 'CONNECT', ':authority': 'backend.example:443' });
    assert.equal(res.status, 400);
    const raw = await RawH2.connect(fulcrum.proxyPort);
    const ws = hpack([[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'http'], [':path', '/chat'], [':authority', 'x']]);
    await raw.write(frame(FrameType.HEADERS, Flag.END_HEADERS, 1, ws));
    await raw.write(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 3, requestHead('/after-connect')));
    const reset = await raw.until((f) => f.type === FrameType.RST_STREAM && f.stream === 1, 'the extended CONNECT reset');
    assert.equal(reset.payload.readUInt32BE(0), ErrorCode.PROTOCOL_ERROR);
    await raw.until((f) => f.type === FrameType.HEADERS && f.stream === 3, 'the next stream answered');
    raw.close();
  });

  test('a body over limits.max_body_size gets 413, declared or counted as it streams', async () => {
    const declared = await h2request(session, { ':method': 'POST', ':path': '/big', 'content-length': String(100 * 1024) }, 'x'.repeat(100 * 1024));
    assert.equal(declared.status, 413);
    const streamed = await h2request(session, { ':method': 'POST', ':path': '/big' }, ['x'.repeat(40 * 1024), 'x'.repeat(40 * 1024)]);
    assert.equal(streamed.status, 413);
  });

  test("a body that stalls past its pool's client_body timeout gets 408", async () => {
    const req = session.request({ ':method': 'POST', ':path': '/slow-body' }, { endStream: false });
    req.write('a little');
    const status = await new Promise<number>((resolve, reject) => {
      req.on('response', (h) => resolve(Number(h[':status'])));
      req.on('error', reject);
    });
    assert.equal(status, 408);
    req.close();
  });

  test('each HTTP/2 request is logged once, like any request', async () => {
    await h2request(session, { ':path': '/logged-h2' });
    await eventually(() => fulcrum.logs.some((l) => l.msg === 'request' && l.url === '/logged-h2' && l.status === 200), 5000, 'the access log line');
    const lines = fulcrum.logs.filter((l) => l.msg === 'request' && l.url === '/logged-h2');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.http, '2');
  });

  test('HTTP/1.1 clients are still served on the h2c listener', async () => {
    const res = await fetch(`${fulcrum.url}/h1?x=1`, { method: 'POST', body: 'one' });
    assert.equal(res.status, 200);
    const seen = echo(await res.text());
    assert.equal(seen.url, '/h1?x=1');
    assert.equal(seen.body, 'one');
  });
});

describe('HTTP/2 and a drain', () => {
  test('a drain sends GOAWAY NO_ERROR: the stream in flight finishes, then the process stops', async () => {
    const draining = await startFulcrum({ http2: { h2c: true }, pools: { p: { backends: [{ url: backend.url }] } } });
    const client = await h2connect(draining.url);
    let goaway: number | undefined;
    client.on('goaway', (code) => (goaway = code));
    const before = backend.requests.filter((r) => r.url === '/slow').length;
    const inFlight = h2request(client, { ':path': '/slow' });
    await eventually(() => backend.requests.filter((r) => r.url === '/slow').length === before + 1, 5000, 'the request at the backend');
    const stopped = draining.stop();
    await eventually(() => goaway !== undefined, 5000, 'GOAWAY');
    assert.equal(goaway, http2.constants.NGHTTP2_NO_ERROR);
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(res.body, 'slow answer');
    await stopped;
    client.destroy();
  });
});

describe('HTTP/2 over TLS (ALPN h2)', () => {
  let ca: TestCa;
  let cert: TestCert;
  let secure: InProcessFulcrum;
  let tlsSession: ClientHttp2Session;
  const opts = () => ({ ca: ca.cert, servername: 'main.test' });

  before(async () => {
    ca = await makeCa();
    cert = await makeCert(ca, ['main.test'], 'main');
    secure = await startFulcrum({
      listeners: [{ listen: '127.0.0.1:0', tls: { certificates: [{ cert: cert.certFile, key: cert.keyFile }] } }],
      http2: { max_client_resets: 20 },
      pools: { p: { backends: [{ url: backend.url }] } },
      routes: [
        { match: { path_prefix: '/cached' }, pool: 'p', cache: { ttl: '60s' } },
        { match: {}, pool: 'p' },
      ],
    });
    tlsSession = await h2connect(`https://127.0.0.1:${secure.ports[0]}`, opts());
  });
  after(async () => {
    tlsSession?.close();
    await secure?.stop();
  });

  test('a client offering h2 gets HTTP/2; its request reaches the backend with X-Forwarded-Proto: https and the authority as Host', async () => {
    assert.equal(tlsSession.alpnProtocol, 'h2');
    const res = await h2request(tlsSession, { ':method': 'POST', ':path': '/over-h2', ':authority': 'main.test' }, 'body over tls');
    assert.equal(res.status, 200);
    const seen = echo(res.body);
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers.host, 'main.test');
    assert.equal(seen.body, 'body over tls');
  });

  test('a cacheable response is served from the cache on its second request over h2 on TLS', async () => {
    const before = backend.requests.filter((r) => r.url === '/cached').length;
    const first = await h2request(tlsSession, { ':path': '/cached', ':authority': 'main.test' });
    const second = await h2request(tlsSession, { ':path': '/cached', ':authority': 'main.test' });
    assert.match(String(second.headers['cache-status']), /hit/);
    assert.equal(second.body, first.body);
    assert.equal(backend.requests.filter((r) => r.url === '/cached').length, before + 1);
  });

  test('HTTP/1.1 clients are still served on the TLS listener', async () => {
    const res = await httpsGet(secure.ports[0]!, '/h1-over-tls', { ca: ca.cert, servername: 'main.test' });
    assert.equal(res.status, 200);
    assert.equal(echo(res.body).url, '/h1-over-tls');
  });

  test('the attack guards hold over TLS: a CONTINUATION flood and a rapid reset close the connection, and h2 goes on serving', async () => {
    const flood = await RawH2.connect(secure.ports[0]!, { tls: opts() });
    await flood.write(frame(FrameType.HEADERS, Flag.END_STREAM, 1, requestHead('/never')));
    for (let i = 0; i < 5000 && !flood.isClosed; i++) await flood.write(frame(FrameType.CONTINUATION, 0, 1, hpack([[`x-${i}`, 'v']])));
    await flood.closed;
    assert.notEqual(flood.goaway(), undefined);
    const resets = await RawH2.connect(secure.ports[0]!, { tls: opts() });
    for (let id = 1; id < 400 && !resets.isClosed; id += 2) {
      await resets.write(Buffer.concat([frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, id, requestHead(`/r/${id}`)), rstStream(id, ErrorCode.CANCEL)]));
    }
    await resets.closed;
    assert.equal(resets.goaway(), ErrorCode.ENHANCE_YOUR_CALM);
    const res = await h2request(tlsSession, { ':path': '/still-up', ':authority': 'main.test' });
    assert.equal(res.status, 200);
  });
});
