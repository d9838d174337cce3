/**
 * What Fulcrum does to headers and bodies on the way through (RFC 9110 §7.6): checked on what reaches a real
 * backend and on what comes back to a real client.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { startBackend, type SeenRequest, type TestBackend } from '../support/backend.ts';
import http from 'node:http';
import { rawExchange, request, statusOf } from '../support/client.ts';
import { eventually } from '../support/eventually.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

/** Fulcrum's request ids: 32 hex digits, like nginx's $request_id (see newRequestId). */
const REQUEST_ID = /^[0-9a-f]{32}$/;

let backend: TestBackend;
let fulcrum: InProcessFulcrum;
/** The same backend behind a Fulcrum that trusts loopback peers as proxies. */
let trusting: InProcessFulcrum;

before(async () => {
  backend = await startBackend('origin');
  fulcrum = await startFulcrum({ pools: { web: { backends: [{ url: backend.url }] } } });
  trusting = await startFulcrum({ trusted_proxies: ['127.0.0.1/32'], pools: { web: { backends: [{ url: backend.url }] } } });
});

after(async () => {
  await fulcrum?.stop();
  await trusting?.stop();
  await backend?.close();
});

function lastSeen(): SeenRequest {
  const seen = backend.requests.at(-1);
  assert.ok(seen, 'no request reached the backend');
  return seen;
}

describe('hop-by-hop headers', () => {
  test('hop-by-hop request headers and the fields named in Connection do not reach the backend', async () => {
    // A chunked body, because node:http refuses to send a Trailer field without one.
    const res = await request(fulcrum.url, {
      method: 'POST',
      body: ['a', 'b'],
      headers: {
        connection: 'keep-alive, X-Hop-Secret',
        'keep-alive': 'timeout=5, max=100',
        te: 'trailers',
        trailer: 'X-Checksum',
        upgrade: 'h2c',
        'proxy-connection': 'keep-alive',
        'x-hop-secret': 'for the next hop only',
        'x-end-to-end': 'kept',
      },
    });
    assert.equal(res.status, 200);
    const { headers } = lastSeen();
    for (const name of ['keep-alive', 'te', 'trailer', 'upgrade', 'proxy-connection', 'x-hop-secret']) {
      assert.equal(headers[name], undefined, `${name} reached the backend`);
    }
    // Fulcrum's own connection to the backend may say keep-alive; the client's Connection must not go through.
    assert.doesNotMatch(String(headers.connection ?? ''), /x-hop-secret/i);
    assert.equal(headers['x-end-to-end'], 'kept');
    assert.equal(backend.requests.at(-1)?.body.toString(), 'ab');
  });

  test('hop-by-hop response headers and the fields named in Connection do not reach the client', async (t) => {
    backend.handle((_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        connection: 'X-Backend-Internal',
        'keep-alive': 'timeout=30',
        'proxy-connection': 'keep-alive',
        trailer: 'X-Checksum',
        upgrade: 'h2c',
        'x-backend-internal': 'secret',
        'x-end-to-end': 'kept',
      });
      // Two writes: chunked, which a Trailer field requires.
      res.write('o');
      res.end('k');
    });
    t.after(() => backend.handle((_req, res) => res.end('origin')));
    const res = await request(fulcrum.url);
    assert.equal(res.status, 200);
    assert.equal(res.text, 'ok');
    for (const name of ['keep-alive', 'proxy-connection', 'trailer', 'upgrade', 'x-backend-internal']) {
      assert.equal(res.headers[name], undefined, `${name} reached the client`);
    }
    assert.doesNotMatch(String(res.headers.connection ?? ''), /x-backend-internal/i);
    assert.equal(res.headers['x-end-to-end'], 'kept');
  });

  test('fields named in any of several Connection fields are dropped, on the request and on the response', async (t) => {
    backend.handle((_req, res) => {
      res.writeHead(200, ['Connection', 'X-Resp-A', 'Connection', 'X-Resp-B', 'X-Resp-A', '1', 'X-Resp-B', '2', 'Content-Length', '2']);
      res.end('ok');
    });
    t.after(() => backend.handle((_req, res) => res.end('origin')));
    const res = await request(fulcrum.url, {
      // A list of fields is sent as it is, without the Host node:http adds to an object.
      headers: ['Host', 'a.example', 'Connection', 'X-Req-A', 'Connection', 'keep-alive, X-Req-B', 'X-Req-A', '1', 'X-Req-B', '2'],
    });
    assert.equal(res.text, 'ok');
    assert.equal(res.headers['x-resp-a'], undefined);
    assert.equal(res.headers['x-resp-b'], undefined);
    assert.equal(lastSeen().headers['x-req-a'], undefined);
    assert.equal(lastSeen().headers['x-req-b'], undefined);
  });
});

describe('X-Forwarded-*', () => {
  test('X-Forwarded-For, -Proto and -Host are set from the peer and the Host header', async () => {
    await request(fulcrum.url, { headers: { host: 'shop.example.com' } });
    const { headers } = lastSeen();
    assert.equal(headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['x-forwarded-host'], 'shop.example.com');
  });

  test('X-Forwarded-* sent by a peer that is not a trusted proxy are replaced', async () => {
    await request(fulcrum.url, {
      headers: { host: 'shop.example.com', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' },
    });
    const { headers } = lastSeen();
    assert.equal(headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['x-forwarded-host'], 'shop.example.com');
  });

  test('X-Forwarded-For from a trusted proxy is appended to and its -Proto and -Host are kept', async () => {
    await request(trusting.url, {
      headers: ['Host', 'shop.example.com', 'X-Forwarded-For', '203.0.113.7', 'X-Forwarded-For', '198.51.100.2', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'www.example.com'],
    });
    const { headers } = lastSeen();
    assert.equal(headers['x-forwarded-for'], '203.0.113.7, 198.51.100.2, 127.0.0.1');
    assert.equal(headers['x-forwarded-proto'], 'https');
    assert.equal(headers['x-forwarded-host'], 'www.example.com');
  });

  test('a trusted proxy that sends no X-Forwarded-* gets them set as for any peer', async () => {
    await request(trusting.url, { headers: { host: 'shop.example.com' } });
    const { headers } = lastSeen();
    assert.equal(headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['x-forwarded-host'], 'shop.example.com');
  });
});

describe('Via', () => {
  test('Via is added to the request and to the response', async () => {
    const res = await request(fulcrum.url);
    assert.equal(lastSeen().headers.via, '1.1 fulcrum');
    assert.equal(res.headers.via, '1.1 fulcrum');
  });

  test('Via is appended to an existing one on the request and on the response', async (t) => {
    backend.handle((_req, res) => {
      res.writeHead(200, { via: '1.1 origin-cache' });
      res.end('origin');
    });
    t.after(() => backend.handle((_req, res) => res.end('origin')));
    const res = await request(fulcrum.url, { headers: { via: '1.0 edge' } });
    assert.equal(lastSeen().headers.via, '1.0 edge, 1.1 fulcrum');
    assert.equal(res.headers.via, '1.1 origin-cache, 1.1 fulcrum');
  });
});

describe('X-Request-Id', () => {
  test('an X-Request-Id sent by the client reaches the backend and comes back on the response', async () => {
    const res = await request(fulcrum.url, { headers: { 'x-request-id': 'req-abc-123' } });
    assert.equal(lastSeen().headers['x-request-id'], 'req-abc-123');
    assert.equal(res.headers['x-request-id'], 'req-abc-123');
  });

  test('a request without X-Request-Id gets a new one, the same on the backend and on the response', async () => {
    const res = await request(fulcrum.url);
    const id = lastSeen().headers['x-request-id'];
    assert.match(String(id), REQUEST_ID);
    assert.equal(res.headers['x-request-id'], id);
  });

  test('an X-Request-Id that is not visible ASCII is replaced by a new one', async () => {
    const res = await request(fulcrum.url, { headers: { 'x-request-id': 'two words' } });
    assert.match(String(lastSeen().headers['x-request-id']), REQUEST_ID);
    assert.equal(res.headers['x-request-id'], lastSeen().headers['x-request-id']);
  });

  test('each request without X-Request-Id gets a different one', async () => {
    const a = await request(fulcrum.url);
    const b = await request(fulcrum.url);
    assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
  });
});

test('the Host header reaches the backend as it is routed and keyed: lower case, port included', async () => {
  await request(fulcrum.url, { headers: { host: 'App.Example.com:8443' } });
  assert.equal(lastSeen().headers.host, 'app.example.com:8443');
});

test('the method, path and query reach the backend unchanged', async () => {
  await request(`${fulcrum.url}/a/b%20c?x=1&y=%2F`, { method: 'DELETE' });
  const seen = lastSeen();
  assert.equal(seen.method, 'DELETE');
  assert.equal(seen.url, '/a/b%20c?x=1&y=%2F');
});

test(
  'an HTTP/1.0 request without Host reaches the backend with a Host it accepts',
  async () => {
    const raw = await rawExchange(fulcrum.proxyPort, 'GET /old-client HTTP/1.0\r\n\r\n');
    assert.equal(statusOf(raw), 200, raw);
    assert.equal(lastSeen().url, '/old-client');
    assert.ok(lastSeen().headers.host, 'no Host at the backend');
  },
);

describe('responses without a body', () => {
  test('a HEAD response keeps the backend\'s Content-Length and has no body', async (t) => {
    backend.handle((req, res) => {
      res.writeHead(200, { 'content-length': '100', 'content-type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'x'.repeat(100));
    });
    t.after(() => backend.handle((_req, res) => res.end('origin')));
    const head = await request(fulcrum.url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '100');
    assert.equal(head.body.length, 0);
    // The connection to the backend is still in step: the next response is whole.
    const get = await request(fulcrum.url);
    assert.equal(get.text, 'x'.repeat(100));
  });

  test('a 304 from the backend reaches the client with its validators and no body', async (t) => {
    backend.handle((_req, res) => {
      res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=60' });
      res.end();
    });
    t.after(() => backend.handle((_req, res) => res.end('origin')));
    const res = await request(fulcrum.url, { headers: { 'if-none-match': '"v1"' } });
    assert.equal(res.status, 304);
    assert.equal(res.headers.etag, '"v1"');
    assert.equal(res.body.length, 0);
    assert.equal(lastSeen().headers['if-none-match'], '"v1"');
  });
});

test('a request with Expect: 100-continue gets 100 Continue and its body reaches the backend without Expect', async () => {
  const status = await new Promise<{ continued: boolean; status: number }>((resolve, reject) => {
    let continued = false;
    const req = http.request(fulcrum.url, {
      method: 'POST',
      agent: false,
      headers: { expect: '100-continue', 'content-length': '5' },
    });
    req.on('continue', () => {
      continued = true;
      req.end('hello');
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ continued, status: res.statusCode! }));
    });
    req.on('error', reject);
  });
  assert.deepEqual(status, { continued: true, status: 200 });
  assert.equal(lastSeen().body.toString(), 'hello');
  assert.equal(lastSeen().headers.expect, undefined);
});

test('requests one after another on a keep-alive client connection are all answered', async (t) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const sockets = new Set<unknown>();
  for (let i = 0; i < 5; i++) {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get(`${fulcrum.url}/ka/${i}`, { agent }, resolve);
      req.on('socket', (s) => sockets.add(s));
      req.on('error', reject);
    });
    res.resume();
    await new Promise((resolve) => res.on('end', resolve));
    assert.equal(res.statusCode, 200);
    assert.equal(lastSeen().url, `/ka/${i}`);
  }
  assert.equal(sockets.size, 1, 'one client connection carried them all');
});

describe('bodies', () => {
  test('a request body with Content-Length reaches the backend intact', async () => {
    const body = randomBytes(256 * 1024);
    const res = await request(fulcrum.url, { method: 'POST', headers: { 'content-length': String(body.length) }, body });
    assert.equal(res.status, 200);
    const seen = lastSeen();
    assert.equal(seen.headers['content-length'], String(body.length));
    assert.ok(seen.body.equals(body));
  });

  test('a chunked request body reaches the backend intact', async () => {
    const chunks = Array.from({ length: 40 }, () => randomBytes(4096 + Math.floor(Math.random() * 4096)));
    const res = await request(fulcrum.url, { method: 'PUT', body: chunks });
    assert.equal(res.status, 200);
    const seen = lastSeen();
    assert.equal(seen.headers['content-length'], undefined);
    assert.ok(seen.body.equals(Buffer.concat(chunks)));
  });

  test('a 20 MB streamed response reaches the client intact', async (t) => {
    const piece = randomBytes(64 * 1024);
    const pieces = 320; // 20 MiB
    const expected = createHash('sha256');
    for (let i = 0; i < pieces; i++) expected.update(piece);
    backend.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let i = 0;
      const writeSome = (): void => {
        while (i < pieces) {
          i++;
          if (!res.write(piece)) return void res.once('drain', writeSome);
        }
        res.end();
      };
      writeSome();
    });
    t.after(() => backend.handle((_req, res) => res.end('origin')));
    const res = await request(fulcrum.url);
    assert.equal(res.status, 200);
    assert.equal(res.body.length, piece.length * pieces);
    assert.equal(createHash('sha256').update(res.body).digest('hex'), expected.digest('hex'));
  });

  test('a client that stops reading for a while still receives the whole response body', async (t) => {
    const piece = randomBytes(64 * 1024);
    const pieces = 512; // 32 MiB: more than the socket buffers on the way hold
    const backendState = { written: 0, waitingForDrain: false };
    backend.handle((_req, res) => {
      res.writeHead(200, { 'content-length': String(piece.length * pieces) });
      const writeSome = (): void => {
        backendState.waitingForDrain = false;
        while (backendState.written < pieces) {
          backendState.written++;
          if (!res.write(piece)) {
            backendState.waitingForDrain = true;
            return void res.once('drain', writeSome);
          }
        }
        res.end();
      };
      writeSome();
    });
    t.after(() => backend.handle((_req, res) => res.end('origin')));

    const socket = net.connect(fulcrum.proxyPort, '127.0.0.1');
    t.after(() => socket.destroy());
    const received: Buffer[] = [];
    let total = 0;
    socket.on('data', (c: Buffer) => {
      received.push(c);
      if (total === 0) socket.pause(); // stop reading after the first bytes
      total += c.length;
    });
    socket.write('GET /slow HTTP/1.1\r\nHost: slow.example\r\nConnection: close\r\n\r\n');
    // The backend is held back by the paused client: backpressure reaches it through Fulcrum.
    // The client must have paused (on its first bytes) before it resumes: a resume that came first would be undone.
    await eventually(() => total > 0 && backendState.waitingForDrain && backendState.written < pieces, 5000, 'the backend to wait for drain');
    socket.resume();
    await new Promise<void>((resolve) => socket.once('end', resolve));
    const raw = Buffer.concat(received);
    const split = raw.indexOf('\r\n\r\n');
    assert.match(raw.subarray(0, split).toString(), /^HTTP\/1\.1 200 /);
    const body = raw.subarray(split + 4);
    assert.equal(body.length, piece.length * pieces);
    for (let i = 0; i < pieces; i++) assert.ok(body.subarray(i * piece.length, (i + 1) * piece.length).equals(piece), `piece ${i} differs`);
  });
});
