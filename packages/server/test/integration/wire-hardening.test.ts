/**
 * Issue 13: framing decided from what the parser read, never from what is forwarded. Each test sends hostile bytes
 * over a raw socket and checks what a backend really received (read by llhttp: test/support/framing-wire.ts)
 * or what the client really got.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { rawExchange, request, sample, scrape, statusOf } from '../support/client.ts';
import { eventually } from '../support/eventually.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';
import { fieldValues, startRecordingBackend, type RecordingBackend } from '../support/framing-wire.ts';

let recorder: RecordingBackend;
let origin: TestBackend;
let fulcrum: InProcessFulcrum;

before(async () => {
  recorder = await startRecordingBackend((req) => echoOf(req.method, req.target));
  origin = await startBackend('origin');
  fulcrum = await startFulcrum({
    pools: {
      raw: { backends: [{ url: recorder.url }] },
      web: {
        backends: [{ url: origin.url }],
        timeouts: { client_body: '300ms', response: '300ms' },
        health: { passive: { consecutive_failures: 1, ejection: '30s' } },
      },
    },
    routes: [
      { match: { path_prefix: '/web/' }, pool: 'web' },
      { match: { path_prefix: '/cached/' }, pool: 'web', cache: { ttl: '60s', key: { headers: ['accept-language'], cookies: ['currency'] } } },
      { match: {}, pool: 'raw' },
    ],
  });
});

after(async () => {
  await fulcrum.stop();
  await recorder.close();
  await origin.close();
});

/** The requests the recorder saw from `from` on. */
const seenSince = (from: number) => recorder.requests.slice(from);

describe('issue 13 #1: a Connection nomination cannot unframe a request', () => {
  test('Connection: content-length with a body that is a request: the backend reads one POST whose body is those bytes', async () => {
    const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
    const from = recorder.requests.length;
    const reply = await rawExchange(
      fulcrum.proxyPort,
      `POST /upload HTTP/1.1\r\nHost: x\r\nConnection: content-length\r\nConnection: close\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    );
    assert.equal(statusOf(reply), 200);
    const seen = seenSince(from);
    assert.deepEqual(seen.map((r) => `${r.method} ${r.target}`), ['POST /upload']);
    assert.equal(seen[0]!.body.toString(), smuggled);
    assert.deepEqual(fieldValues(seen[0]!.headers, 'content-length'), [String(smuggled.length)]);
    assert.deepEqual(recorder.connections.map((c) => c.parser.error).filter(Boolean), []);
  });

  test('Connection: transfer-encoding with a chunked body: forwarded chunked, one request', async () => {
    const from = recorder.requests.length;
    const reply = await rawExchange(
      fulcrum.proxyPort,
      'POST /chunks HTTP/1.1\r\nHost: x\r\nConnection: transfer-encoding, close\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '5\r\nGET /\r\n0\r\n\r\n',
    );
    assert.equal(statusOf(reply), 200);
    const seen = seenSince(from);
    assert.deepEqual(seen.map((r) => `${r.method} ${r.target} ${r.body}`), ['POST /chunks GET /']);
  });

  test('Connection: host cannot remove the Host that routed the request', async () => {
    const from = recorder.requests.length;
    await rawExchange(fulcrum.proxyPort, 'GET /h HTTP/1.1\r\nHost: routed.example\r\nConnection: host, close\r\n\r\n');
    assert.deepEqual(fieldValues(seenSince(from)[0]!.headers, 'host'), ['routed.example']);
  });
});

describe('issue 13 #7: keyed headers cannot be stripped from under the cache key', () => {
  test('Connection: accept-language, cookie does not store the default page under the fr/EUR key', async () => {
    origin.handle((req, res) => {
      const currency = /currency=(\w+)/.exec(req.headers.cookie ?? '')?.[1] ?? 'USD';
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' });
      res.end(`${req.headers['accept-language'] ?? 'en'}/${currency}`);
    });
    const fr = ['Host', 'shop', 'Accept-Language', 'fr', 'Cookie', 'currency=EUR'];
    const first = await request(`${fulcrum.url}/cached/page`, { headers: [...fr, 'Connection', 'accept-language, cookie'] });
    assert.equal(first.text, 'en/USD', 'the backend saw neither field: it answered its default page');
    const second = await request(`${fulcrum.url}/cached/page`, { headers: fr });
    assert.equal(second.text, 'fr/EUR');
  });
});

describe('issue 13 #14: stray bytes and repeated lengths', () => {
  test('a 204 with stray body bytes reaches the client as a 204, and the next request is served', async () => {
    recorder.respond = (req) => (req.target === '/stray' ? 'HTTP/1.1 204 No Content\r\n\r\nstray bytes' : echoOf(req.method, req.target));
    try {
      const reply = await request(`${fulcrum.url}/stray`);
      assert.equal(reply.status, 204);
      assert.equal(reply.text, '');
      assert.equal((await request(`${fulcrum.url}/after`)).text, 'GET /after');
    } finally {
      recorder.respond = (req) => echoOf(req.method, req.target);
    }
  });

  test('two identical Content-Length fields go upstream as one, and come back as one', async () => {
    const from = recorder.requests.length;
    recorder.respond = () => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok';
    try {
      const reply = await rawExchange(fulcrum.proxyPort, 'POST /dup HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc');
      assert.deepEqual(fieldValues(seenSince(from)[0]!.headers, 'content-length'), ['3']);
      assert.equal(reply.match(/content-length:/gi)?.length, 1);
      assert.ok(reply.endsWith('\r\n\r\nok'));
    } finally {
      recorder.respond = (req) => echoOf(req.method, req.target);
    }
  });
});

function echoOf(method: string, url: string): string {
  const body = `${method} ${url}`;
  return `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
}

describe('issue 13 #15: a chunked request body under upstream back-pressure', () => {
  test('24 MiB sent chunked to a backend that reads slowly arrives whole', async () => {
    const slow = http.createServer((req, res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      req.pause();
      setTimeout(() => req.resume(), 500); // loopback's socket buffers fill: Fulcrum's writes return false
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
      });
      req.on('end', () => res.end(`${bytes} ${hash.digest('hex')}`));
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const port = (slow.address() as net.AddressInfo).port;
    const big = await startFulcrum({ limits: { max_body_size: '64mb' }, pools: { slow: { backends: [{ url: `http://127.0.0.1:${port}` }] } } });
    try {
      const chunks = Array.from({ length: 384 }, (_, i) => Buffer.alloc(64 * 1024, i));
      const expected = createHash('sha256');
      for (const c of chunks) expected.update(c);
      const reply = await request(`${big.url}/upload`, { method: 'POST', body: chunks });
      assert.equal(reply.status, 200);
      assert.equal(reply.text, `${24 * 1024 * 1024} ${expected.digest('hex')}`);
    } finally {
      await big.stop();
      slow.close();
    }
  });
});

/** A raw client: writes, collects what comes back, resolves on close. */
function openClient(port = fulcrum.proxyPort): { socket: net.Socket; received: () => string; closed: Promise<number> } {
  const socket = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  const started = performance.now();
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now() - started)));
  return { socket, received: () => Buffer.concat(chunks).toString('latin1'), closed };
}

describe('issue 13 #11: slow request bodies are the client\'s, not the backend\'s', () => {
  test('a body that stalls gets 408 after timeouts.client_body, the connection closes, and the backend is not ejected', async () => {
    origin.handle((_req, res) => res.end('fine'));
    const client = openClient();
    client.socket.write('POST /web/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
    const ms = await client.closed;
    assert.equal(statusOf(client.received()), 408);
    assert.match(client.received(), /FUL_ERR_CLIENT_BODY_TIMEOUT/);
    assert.ok(ms < 2000, `closed after ${ms} ms`);
    // consecutive_failures is 1: had the stall counted against the backend, it would be ejected (503).
    assert.equal((await request(`${fulcrum.url}/web/next`)).status, 200);
  });

  test('a body that never starts gets 408 after timeouts.client_body too', async () => {
    const client = openClient();
    client.socket.write('POST /web/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n');
    const ms = await client.closed;
    assert.equal(statusOf(client.received()), 408);
    assert.ok(ms < 2000, `closed after ${ms} ms`);
  });

  test('a long upload whose pieces keep coming is not cut by the response timeout, which starts once it is sent', async () => {
    origin.handle((_req, res, body) => res.end(`got ${body.length}`));
    const pieces = Array.from({ length: 4 }, () => 'x'.repeat(100));
    const client = openClient();
    client.socket.write(`POST /web/upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${pieces.length * 100}\r\n\r\n`);
    for (const piece of pieces) {
      // The client's own pace, which is the scenario: each gap under client_body (300 ms), all of them past response (300 ms).
      await new Promise((r) => setTimeout(r, 120));
      client.socket.write(piece);
    }
    await client.closed;
    assert.equal(statusOf(client.received()), 200);
    assert.ok(client.received().endsWith('got 400'));
  });

  test('a client waiting for 100 Continue is not timed out while its request waits for a backend connection', async () => {
    const arrived = new Set<string>();
    const slow = http.createServer((req, res) => {
      arrived.add(req.url!);
      req.resume();
      req.on('end', () => setTimeout(() => res.end(`done ${req.url}`), req.url === '/busy' ? 600 : 0));
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(slow.address() as net.AddressInfo).port}`;
    // One connection: the second request queues behind the first for longer than client_body.
    const proxy = await startFulcrum({
      pools: { one: { backends: [{ url, max_connections: 1 }], timeouts: { client_body: '200ms' } } },
    });
    try {
      const busy = request(`${proxy.url}/busy`);
      await eventually(() => arrived.has('/busy'), 2000, 'the first request to hold the only connection');
      const client = openClient(proxy.proxyPort);
      client.socket.write('POST /queued HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
      client.socket.on('data', (d: Buffer) => {
        if (d.toString('latin1').startsWith('HTTP/1.1 100')) client.socket.write('hello');
      });
      await client.closed;
      assert.match(client.received(), /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
      assert.ok(client.received().endsWith('done /queued'));
      assert.equal((await busy).status, 200);
    } finally {
      await proxy.stop();
      slow.closeAllConnections();
      slow.close();
    }
  });

  test('after an early answer, an unread body is waited for no longer than the body timeout', async () => {
    // Answers at the head, never reading the body (as a backend refusing an upload does).
    const early = http.createServer((_req, res) => res.writeHead(200, { 'content-length': '5' }).end('early'));
    await new Promise<void>((resolve) => early.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(early.address() as net.AddressInfo).port}`;
    const proxy = await startFulcrum({ pools: { early: { backends: [{ url }], timeouts: { client_body: '300ms' } } } });
    try {
      const client = openClient(proxy.proxyPort);
      client.socket.write('POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc');
      const ms = await client.closed;
      assert.equal(statusOf(client.received()), 200);
      assert.ok(ms < 2000, `closed after ${ms} ms`);
    } finally {
      await proxy.stop();
      early.closeAllConnections();
      early.close();
    }
  });
});

describe('issue 13 #5: pipelining follows the client\'s reading', () => {
  test('a client that pipelines cache hits and never reads has a bounded number of them served', async () => {
    const body = 'x'.repeat(64 * 1024);
    origin.handle((_req, res) => res.writeHead(200, { 'cache-control': 'max-age=60' }).end(body));
    const hits = async () => sample(await scrape(fulcrum.adminUrl), 'fulcrum_cache_requests_total', { result: 'hit' }) ?? 0;
    assert.equal((await request(`${fulcrum.url}/cached/big`, { headers: { host: 'x' } })).body.length, body.length);
    const before = await hits();
    const client = openClient();
    client.socket.pause(); // reads nothing
    try {
      const one = 'GET /cached/big HTTP/1.1\r\nHost: x\r\n\r\n';
      for (let i = 0; i < 40; i++) client.socket.write(one.repeat(50)); // 2,000 hits, ~128 MB of answers
      await eventually(async () => (await hits()) > before, 2000, 'the first hits');
      // What is checked is that serving stops, which gives no event to wait for: half a second would serve all
      // 2,000 from memory without back-pressure.
      await new Promise((r) => setTimeout(r, 500));
      const served = (await hits()) - before;
      // Kernel buffers on loopback take a few MB; without back-pressure all 2,000 would be served into memory.
      assert.ok(served > 0 && served < 400, `${served} hits served to a client that reads nothing`);
    } finally {
      client.socket.destroy();
    }
  });
});
