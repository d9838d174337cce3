/**
 * Client limits and the errors Fulcrum answers itself: what the client gets (status, code, request id), what
 * reaches the backend (nothing, when a limit is hit up front), and what is logged.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { closedPort, startBackend, type TestBackend } from '../support/backend.ts';
import { pools, rawExchange, request, sample, scrape, statusOf } from '../support/client.ts';
import { eventually, startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

/** Responses a backend handler kept unanswered, ended after each test so that nothing outlives it. */
const held: http.ServerResponse[] = [];
const hold = (_req: http.IncomingMessage, res: http.ServerResponse): void => void held.push(res);
afterEach(() => {
  for (const res of held.splice(0)) res.destroy();
});

/** A GET whose response may be cut: what arrived, and whether the response was complete. */
function getPossiblyCut(url: string): Promise<{ status: number; received: string; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      let received = '';
      res.on('data', (c: Buffer) => (received += c.toString()));
      res.on('error', () => {}); // 'aborted' when cut: expected
      res.on('close', () => resolve({ status: res.statusCode!, received, complete: res.complete }));
    });
    req.on('error', reject);
  });
}

describe('client limits', () => {
  let backend: TestBackend;
  let fulcrum: InProcessFulcrum;

  before(async () => {
    backend = await startBackend('origin');
    fulcrum = await startFulcrum({
      limits: { max_header_size: '2kb', max_body_size: '1kb', header_timeout: '100ms' },
      log: { level: 'info', access: true },
      pools: { web: { backends: [{ url: backend.url }] } },
    });
  });

  after(async () => {
    await fulcrum?.stop();
    await backend?.close();
  });

  test('a request head larger than limits.max_header_size gets 431 and does not reach the backend', async () => {
    const before = backend.count();
    const raw = await rawExchange(fulcrum.proxyPort, `GET / HTTP/1.1\r\nHost: a.example\r\nX-Big: ${'x'.repeat(4096)}\r\n\r\n`);
    assert.equal(statusOf(raw), 431, raw);
    assert.equal(backend.count(), before);
  });

  test('a request head refused by the parser is counted in /metrics with its error code', async () => {
    const errors = async (code: string) => sample(await scrape(fulcrum.adminUrl), 'fulcrum_proxy_errors_total', { code }) ?? 0;
    const tooLarge = await errors('FUL_ERR_HEADERS_TOO_LARGE');
    const bad = await errors('FUL_ERR_BAD_REQUEST');
    const raw = await rawExchange(fulcrum.proxyPort, `GET / HTTP/1.1\r\nHost: a.example\r\nX-Big: ${'x'.repeat(4096)}\r\n\r\n`);
    assert.match(raw, /code: FUL_ERR_HEADERS_TOO_LARGE/);
    await rawExchange(fulcrum.proxyPort, 'NOT HTTP\r\n\r\n');
    assert.equal(await errors('FUL_ERR_HEADERS_TOO_LARGE'), tooLarge + 1);
    assert.equal(await errors('FUL_ERR_BAD_REQUEST'), bad + 1);
  });

  test('a client that does not finish its request head within limits.header_timeout gets 408', async () => {
    const raw = await rawExchange(fulcrum.proxyPort, 'GET / HTTP/1.1\r\nHost: a.example\r\n');
    assert.equal(statusOf(raw), 408, raw);
  });

  test('a request head under limits.max_header_size is served', async () => {
    const res = await request(fulcrum.url, { headers: { 'x-fits': 'x'.repeat(1024) } });
    assert.equal(res.status, 200);
  });

  test('a Content-Length above limits.max_body_size gets 413 without the request reaching the backend', async () => {
    const before = backend.count();
    // The head alone: Fulcrum must answer without waiting for a body it will not take.
    const raw = await rawExchange(fulcrum.proxyPort, 'POST /upload HTTP/1.1\r\nHost: a.example\r\nContent-Length: 2048\r\n\r\n');
    assert.equal(statusOf(raw), 413, raw);
    assert.match(raw, /code: FUL_ERR_BODY_TOO_LARGE/);
    assert.match(raw, /\r\nconnection: close\r\n/i);
    assert.equal(backend.count(), before);
  });

  test('a chunked body that grows past limits.max_body_size gets 413 and the backend never sees it whole', async () => {
    const before = backend.count();
    const chunk = 'y'.repeat(512);
    const chunks = Array.from({ length: 4 }, () => `200\r\n${chunk}\r\n`).join('');
    const raw = await rawExchange(
      fulcrum.proxyPort,
      `POST /upload HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`,
    );
    assert.equal(statusOf(raw), 413, raw);
    assert.match(raw, /code: FUL_ERR_BODY_TOO_LARGE/);
    assert.equal(backend.count(), before);
  });

  test('a chunked body within limits.max_body_size is forwarded whole', async () => {
    const res = await request(fulcrum.url, { method: 'POST', body: ['a'.repeat(500), 'b'.repeat(500)] });
    assert.equal(res.status, 200);
    assert.equal(backend.requests.at(-1)!.body.length, 1000);
  });

  test('a malformed request line gets 400 and the server goes on serving', async () => {
    const raw = await rawExchange(fulcrum.proxyPort, 'THIS IS NOT HTTP\r\n\r\n');
    assert.equal(statusOf(raw), 400, raw);
    // The one error response, as the pipeline writes it: never cached, the code named, then the connection closed.
    assert.match(raw, /\r\ncache-control: no-store\r\n/);
    assert.match(raw, /\r\nconnection: close\r\n/);
    assert.match(raw, /\r\n\r\n400 [^\n]+\ncode: FUL_ERR_BAD_REQUEST\n$/);
    const res = await request(fulcrum.url);
    assert.equal(res.status, 200);
    assert.equal(res.text, 'origin');
  });

  test('a request with both Content-Length and Transfer-Encoding gets 400 and does not reach the backend', async () => {
    // RFC 9112 §6.1: the combination is how requests are smuggled past proxies.
    const before = backend.count();
    const raw = await rawExchange(
      fulcrum.proxyPort,
      'POST / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a.example\r\n\r\n',
    );
    assert.equal(statusOf(raw), 400, raw);
    assert.equal(backend.count(), before);
  });

  test('a client that goes away in the middle of its body leaves nothing in flight and nothing at the backend', async (t) => {
    const inFlight = async () => (await pools(fulcrum.adminUrl))[0]!.backends[0]!.inFlight;
    const before = backend.count();
    const socket = net.connect(fulcrum.proxyPort, '127.0.0.1');
    t.after(() => socket.destroy());
    socket.write('POST /upload HTTP/1.1\r\nHost: a.example\r\nContent-Length: 1000\r\n\r\n0123456789');
    await eventually(async () => (await inFlight()) === 1, 2000, 'the request in flight');
    socket.destroy();
    await eventually(async () => (await inFlight()) === 0, 2000, 'nothing in flight');
    assert.equal(backend.count(), before);
    assert.equal((await request(fulcrum.url)).status, 200);
  });

  test('a request without Host gets 400', async () => {
    const raw = await rawExchange(fulcrum.proxyPort, 'GET / HTTP/1.1\r\n\r\n');
    assert.equal(statusOf(raw), 400, raw);
  });

  test('a rejected request appears in the access log with its status and error code', async () => {
    const res = await request(fulcrum.url, { method: 'POST', headers: { 'content-length': '4096', 'x-request-id': 'too-big-1' }, body: 'z'.repeat(4096) }).catch(
      () => undefined, // Fulcrum may close before the whole body is sent
    );
    if (res !== undefined) assert.equal(res.status, 413);
    await eventually(() => fulcrum.logs.some((l) => l.msg === 'request' && l.reqId === 'too-big-1'), 2000, 'the access log line');
    const line = fulcrum.logs.find((l) => l.msg === 'request' && l.reqId === 'too-big-1')!;
    assert.equal(line.status, 413);
    assert.equal(line.code, 'FUL_ERR_BODY_TOO_LARGE');
  });
});

describe('backend failures', () => {
  let refusedPort: number;
  let refusing: InProcessFulcrum;
  let slow: TestBackend;
  let garbage: net.Server;
  let timeouts: InProcessFulcrum;

  before(async () => {
    refusedPort = await closedPort();
    refusing = await startFulcrum({ pools: { web: { backends: [{ url: `http://127.0.0.1:${refusedPort}` }] } } });
    slow = await startBackend('slow');
    garbage = net.createServer((socket) => {
      socket.once('data', (d: Buffer) =>
        socket.end(
          d.toString().startsWith('GET /garbage/control')
            ? 'HTTP/1.1 200 OK\r\nX-Bad: a\x01b\r\nContent-Length: 2\r\n\r\nok'
            : 'THIS IS NOT HTTP\r\n\r\n',
        ),
      );
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    const garbageUrl = `http://127.0.0.1:${(garbage.address() as net.AddressInfo).port}`;
    timeouts = await startFulcrum({
      pools: {
        response: { backends: [{ url: slow.url }], timeouts: { response: '200ms' } },
        whole: { backends: [{ url: slow.url }], timeouts: { request: '300ms' } },
        idle: { backends: [{ url: slow.url }], timeouts: { idle: '200ms' } },
        garbage: { backends: [{ url: garbageUrl }] },
      },
      routes: [
        { match: { path_prefix: '/response' }, pool: 'response' },
        { match: { path_prefix: '/whole' }, pool: 'whole' },
        { match: { path_prefix: '/idle' }, pool: 'idle' },
        { match: { path_prefix: '/garbage' }, pool: 'garbage' },
      ],
    });
  });

  after(async () => {
    await refusing?.stop();
    await timeouts?.stop();
    await slow?.close();
    await new Promise((resolve) => garbage?.close(resolve));
  });

  test('a connection refused by the only backend gets 502 FUL_ERR_CONNECT_FAILED with the request id in body and header', async () => {
    const res = await request(refusing.url, { headers: { 'x-request-id': 'refused-1' } });
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-request-id'], 'refused-1');
    assert.match(res.text, /code: FUL_ERR_CONNECT_FAILED/);
    assert.match(res.text, /request-id: refused-1/);
  });

  test('a generated request id is in the body and the header of an error response', async () => {
    const res = await request(refusing.url);
    const id = res.headers['x-request-id'];
    assert.match(String(id), /^[0-9a-f]{32}$/);
    assert.ok(res.text.includes(`request-id: ${id}`), res.text);
  });

  test('a backend failure is logged as a warning with its error code and request id', async () => {
    await request(refusing.url, { headers: { 'x-request-id': 'refused-logged' } });
    await eventually(() => refusing.logs.some((l) => l.reqId === 'refused-logged'), 2000, 'the log line');
    const line = refusing.logs.find((l) => l.reqId === 'refused-logged')!;
    assert.equal(line.level, 40);
    assert.equal(line.code, 'FUL_ERR_CONNECT_FAILED');
  });

  test('a backend slower than timeouts.response gets 504 FUL_ERR_RESPONSE_TIMEOUT, tried once', async () => {
    slow.handle(hold);
    const before = slow.count();
    const res = await request(`${timeouts.url}/response`);
    assert.equal(res.status, 504);
    assert.match(res.text, /code: FUL_ERR_RESPONSE_TIMEOUT/);
    assert.equal(slow.count(), before + 1);
  });

  test('a request that exceeds timeouts.request before the response head gets 504 FUL_ERR_REQUEST_TIMEOUT', async () => {
    slow.handle(hold);
    const res = await request(`${timeouts.url}/whole`);
    assert.equal(res.status, 504);
    assert.match(res.text, /code: FUL_ERR_REQUEST_TIMEOUT/);
  });

  test('a request that exceeds timeouts.request mid-body has its response cut, not ended as if complete', async () => {
    slow.handle((req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
      hold(req, res);
    });
    const outcome = await getPossiblyCut(`${timeouts.url}/whole`);
    assert.equal(outcome.status, 200);
    assert.equal(outcome.received, 'partial');
    assert.equal(outcome.complete, false);
  });

  test('a backend that stalls mid-body longer than timeouts.idle has the response cut', async () => {
    slow.handle((req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
      hold(req, res);
    });
    const outcome = await getPossiblyCut(`${timeouts.url}/idle`);
    assert.equal(outcome.status, 200);
    assert.equal(outcome.received, 'partial');
    assert.equal(outcome.complete, false);
  });

  test('a backend that dies mid-body has the response cut, not ended as if complete', async () => {
    slow.handle((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial', () => res.socket?.destroy());
    });
    const outcome = await getPossiblyCut(`${timeouts.url}/response`);
    assert.equal(outcome.status, 200);
    assert.equal(outcome.received, 'partial');
    assert.equal(outcome.complete, false);
  });

  test('a backend that answers something other than HTTP gets 502 FUL_ERR_BAD_RESPONSE', async () => {
    const res = await request(`${timeouts.url}/garbage`);
    assert.equal(res.status, 502);
    assert.match(res.text, /code: FUL_ERR_BAD_RESPONSE/);
  });

  test('a backend header with a control character gets 502 FUL_ERR_BAD_RESPONSE, and Fulcrum goes on serving', async () => {
    const res = await request(`${timeouts.url}/garbage/control`);
    assert.equal(res.status, 502);
    assert.match(res.text, /code: FUL_ERR_BAD_RESPONSE/);
    assert.equal((await request(`${timeouts.url}/garbage`)).status, 502, 'the process is still up');
  });
});

describe('no backend eligible', () => {
  let backends: TestBackend[];
  let fulcrum: InProcessFulcrum;

  before(async () => {
    backends = [await startBackend('d0'), await startBackend('d1')];
    fulcrum = await startFulcrum({ pools: { web: { backends: backends.map((b) => ({ url: b.url, drain: true })) } } });
  });

  after(async () => {
    await fulcrum?.stop();
    for (const b of backends ?? []) await b.close();
  });

  test('when every backend is drained by config, a request gets 503 FUL_ERR_NO_BACKEND and reaches none', async () => {
    const res = await request(fulcrum.url);
    assert.equal(res.status, 503);
    assert.match(res.text, /code: FUL_ERR_NO_BACKEND/);
    assert.equal(backends[0]!.count() + backends[1]!.count(), 0);
  });
});
