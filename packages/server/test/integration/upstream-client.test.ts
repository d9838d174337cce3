import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { FulcrumError } from '../../src/errors.ts';
import { Http1Client } from '../../src/upstream/http1/client.ts';
import { NO_BODY, type UpstreamRequest } from '../../src/upstream/http1/types.ts';
import { closedPort, startBlackhole } from '../support/backend.ts';
import { settle } from '../support/fake-time.ts';

const servers: net.Server[] = [];
after(() => {
  for (const s of servers) {
    s.close();
    (s as http.Server).closeAllConnections?.();
  }
});

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

function clientFor(port: number, maxConnections = 4, idleTimeout = 5000): Http1Client {
  return new Http1Client({ host: '127.0.0.1', port, maxConnections, connectTimeout: 1000, idleTimeout });
}

interface Result {
  status: number;
  headers: string[];
  body: string;
}

function send(client: Http1Client, overrides: Partial<UpstreamRequest> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const result: Result = { status: 0, headers: [], body: '' };
    client.dispatch(
      {
        method: 'GET',
        path: '/',
        headers: ['host', 'backend'],
        body: NO_BODY,
        maxBodyBytes: 1 << 20,
        headersTimeout: 2000,
        bodyTimeout: 2000,
        ...overrides,
      },
      {
        onStart() {},
        onResponseStart(status, headers) {
          result.status = status;
          result.headers = headers;
        },
        onResponseData(chunk) {
          result.body += chunk.toString();
        },
        onResponseEnd() {
          resolve(result);
        },
        onError(error: FulcrumError) {
          reject(error);
        },
      },
    );
  });
}

describe('the upstream HTTP/1.1 client', () => {
  test('reuses one keep-alive connection for sequential requests', async () => {
    let connections = 0;
    const server = http.createServer((req, res) => res.end(`hi ${req.url}`));
    server.on('connection', () => connections++);
    const client = clientFor(await listen(server));
    for (let i = 0; i < 10; i++) assert.equal((await send(client, { path: `/${i}` })).body, `hi /${i}`);
    assert.equal(connections, 1);
    client.destroy();
  });

  test('never opens more than maxConnections, and queued requests are served in turn', async () => {
    let open = 0;
    let peak = 0;
    const server = http.createServer((_req, res) => {
      open++;
      peak = Math.max(peak, open);
      setTimeout(() => {
        open--;
        res.end('ok');
      }, 20);
    });
    const client = clientFor(await listen(server), 2);
    const results = await Promise.all(Array.from({ length: 8 }, () => send(client)));
    assert.deepEqual(results.map((r) => r.body), Array(8).fill('ok'));
    assert.equal(peak, 2);
    client.destroy();
  });

  test('frames the body as told: chunked, a length, or an empty POST with content-length: 0', async () => {
    const seen: Array<{ te?: string; cl?: string; body: string }> = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ te: req.headers['transfer-encoding'], cl: req.headers['content-length'], body });
        res.end('done');
      });
    });
    const client = clientFor(await listen(server));
    await send(client, { method: 'POST', body: { kind: 'chunked', stream: Readable.from([Buffer.from('ab'), Buffer.from('cd')]) } });
    await send(client, { method: 'POST', body: { kind: 'length', length: 4, stream: Readable.from([Buffer.from('wxyz')]) } });
    await send(client, { method: 'POST', body: { kind: 'empty' } });
    assert.deepEqual(seen, [
      { te: 'chunked', cl: undefined, body: 'abcd' },
      { te: undefined, cl: '4', body: 'wxyz' },
      { te: undefined, cl: '0', body: '' },
    ]);
    client.destroy();
  });

  test('a body larger than maxBodyBytes fails the request with FUL_ERR_BODY_TOO_LARGE', async () => {
    const server = http.createServer((req, res) => req.resume().on('end', () => res.end('x')));
    const client = clientFor(await listen(server));
    await assert.rejects(
      send(client, { method: 'POST', maxBodyBytes: 3, body: { kind: 'chunked', stream: Readable.from([Buffer.from('abcdef')]) } }),
      (e: FulcrumError) => e.code === 'FUL_ERR_BODY_TOO_LARGE',
    );
    client.destroy();
  });

  test('a refused connection fails with FUL_ERR_CONNECT_FAILED', async () => {
    const client = clientFor(await closedPort());
    await assert.rejects(send(client), (e: FulcrumError) => e.code === 'FUL_ERR_CONNECT_FAILED' && e.retry === 'yes');
  });

  test('a connection that cannot be established in time fails with FUL_ERR_CONNECT_TIMEOUT', async () => {
    const hole = await startBlackhole();
    try {
      const client = new Http1Client({ host: '127.0.0.1', port: hole.port, maxConnections: 1, connectTimeout: 150, idleTimeout: 1000 });
      const started = Date.now();
      await assert.rejects(send(client), (e: FulcrumError) => e.code === 'FUL_ERR_CONNECT_TIMEOUT' && e.retry === 'yes');
      const took = Date.now() - started;
      assert.ok(took >= 140 && took < 1000, `gave up after ${took} ms`);
      assert.equal(client.connections, 0);
    } finally {
      hole.close();
    }
  });

  test('a backend that does not answer in time fails with FUL_ERR_RESPONSE_TIMEOUT', async () => {
    const server = http.createServer(() => {});
    const client = clientFor(await listen(server));
    await assert.rejects(send(client, { headersTimeout: 100 }), (e: FulcrumError) => e.code === 'FUL_ERR_RESPONSE_TIMEOUT');
    client.destroy();
  });

  test('a keep-alive connection the backend closed while idle fails the next request as a reused-connection reset', async () => {
    // A raw backend that answers once and then closes the connection without saying so.
    let closed!: () => void;
    const backendClosed = new Promise<void>((resolve) => (closed = resolve));
    const server = net.createServer((socket) => {
      socket.once('close', closed);
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        // Half a moment later, as a backend's idle timeout would.
        setTimeout(() => socket.destroy(), 30);
      });
    });
    const client = clientFor(await listen(server));
    assert.equal((await send(client)).body, 'ok');
    await backendClosed;
    // The socket may already be known closed (then a new connection is made) or not yet (then it resets).
    const second = await send(client).then(
      (r) => r.body,
      (e: FulcrumError) => e,
    );
    if (typeof second !== 'string') {
      assert.equal(second.code, 'FUL_ERR_BACKEND_RESET');
      assert.equal(second.reused, true);
    } else assert.equal(second, 'ok');
    client.destroy();
  });

  test('a malformed response fails with FUL_ERR_BAD_RESPONSE and the connection is not reused', async () => {
    let connections = 0;
    let n = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.on('data', () => {
        n++;
        socket.write(n === 1 ? 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n' : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      });
    });
    const client = clientFor(await listen(server));
    await assert.rejects(send(client), (e: FulcrumError) => e.code === 'FUL_ERR_BAD_RESPONSE');
    assert.equal((await send(client)).body, 'ok');
    assert.equal(connections, 2);
    client.destroy();
  });

  test('a close-delimited body is read to the end and the connection closed', async () => {
    const server = net.createServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end'));
    });
    const client = clientFor(await listen(server));
    const r = await send(client);
    assert.equal(r.body, 'until the end');
    assert.equal(client.connections, 0);
    client.destroy();
  });

  test('a handler that aborts the exchange from inside its last body callback ends it once, without throwing', async () => {
    const server = http.createServer((_req, res) => res.end('whole body'));
    const client = clientFor(await listen(server));
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      let control: { abort(e: FulcrumError): void } | undefined;
      client.dispatch(
        { method: 'GET', path: '/', headers: ['host', 'b'], body: NO_BODY, maxBodyBytes: 0, headersTimeout: 1000, bodyTimeout: 1000 },
        {
          onStart: (c) => (control = c),
          onResponseStart() {},
          onResponseData(_chunk, last) {
            // As when the client has gone by the time the last bytes arrive.
            if (last) control!.abort(new FulcrumError('FUL_ERR_CLIENT_ABORTED'));
          },
          onResponseEnd: () => {
            seen.push('end');
            resolve();
          },
          onError: (e) => {
            seen.push(e.code);
            resolve();
          },
        },
      );
    });
    await settle(); // a second ending would come in this turn: from the same read, or from the close the abort causes
    assert.equal(seen.join(','), 'FUL_ERR_CLIENT_ABORTED');
    client.destroy();
  });

  test('aborting a queued request takes it out of the queue', async () => {
    const server = http.createServer((_req, res) => setTimeout(() => res.end('slow'), 100));
    const client = clientFor(await listen(server), 1);
    const first = send(client);
    let control: { abort(e: FulcrumError): void } | undefined;
    const second = new Promise<string>((resolve) => {
      client.dispatch(
        { method: 'GET', path: '/', headers: ['host', 'b'], body: NO_BODY, maxBodyBytes: 0, headersTimeout: 1000, bodyTimeout: 1000 },
        {
          onStart: (c) => (control = c),
          onResponseStart() {},
          onResponseData() {},
          onResponseEnd: () => resolve('answered'),
          onError: (e) => resolve(e.code),
        },
      );
    });
    assert.equal(client.pending, 1);
    control!.abort(new FulcrumError('FUL_ERR_CLIENT_ABORTED'));
    assert.equal(await second, 'FUL_ERR_CLIENT_ABORTED');
    assert.equal(client.pending, 0);
    assert.equal((await first).body, 'slow');
    client.destroy();
  });
});
