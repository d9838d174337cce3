/** The client side of Fulcrum's own HTTP/1.1 server, over raw sockets. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

let backend: TestBackend;
let fulcrum: InProcessFulcrum;

before(async () => {
  backend = await startBackend('b');
  backend.handle((req, res, body) => {
    const delay = req.url === '/slow' ? 60 : 0;
    setTimeout(() => res.end(`${req.url} ${body.length}`), delay);
  });
  fulcrum = await startFulcrum({
    pools: { p: { backends: [{ url: backend.url }] }, empty: { backends: [] } },
    routes: [{ match: { path_prefix: '/empty' }, pool: 'empty' }],
    default_pool: 'p',
    limits: { max_body_size: '1kb', keepalive_timeout: '300ms' },
  });
});

after(async () => {
  await fulcrum.stop();
  await backend.close();
});

/** Writes `wire` on one connection and collects everything until the server closes it or `untilText` is seen. */
function exchange(wire: string | Buffer[], untilText?: RegExp, timeoutMs = 3000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(fulcrum.proxyPort, '127.0.0.1');
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('connect', () => {
      if (typeof wire === 'string') socket.write(wire);
      else for (const part of wire) socket.write(part);
    });
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (untilText?.test(text)) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => {});
  });
}

describe('fulcrum\'s HTTP/1.1 server', () => {
  test('pipelined requests are answered in order, a slow first one included', async () => {
    const { text } = await exchange(
      'GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\nGET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const bodies = [...text.matchAll(/\r\n\r\n(?:[0-9a-f]+\r\n)?(\/\w+) 0/g)].map((m) => m[1]);
    assert.deepEqual(bodies, ['/slow', '/fast', '/last']);
  });

  test('an HTTP/1.0 client that asks for keep-alive keeps its connection, one that does not is closed', async () => {
    const kept = await exchange('GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', /\/a 0/);
    assert.match(kept.text, /^HTTP\/1\.1 200/);
    assert.match(kept.text, /connection: keep-alive/i);
    assert.equal(kept.closed, false);
    const closed = await exchange('GET /b HTTP/1.0\r\n\r\n');
    assert.match(closed.text, /\/b 0$/);
    assert.equal(closed.closed, true);
  });

  test('a chunked body growing past the limit gets 413 and its connection closed', async () => {
    const { text, closed } = await exchange([
      Buffer.from('POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'),
      Buffer.from(`${(4000).toString(16)}\r\n${'x'.repeat(4000)}\r\n0\r\n\r\n`),
    ]);
    assert.match(text, /^HTTP\/1\.1 413/);
    assert.equal(closed, true);
  });

  test('an early answer (503, no backend) drops the unread body and the connection serves the next request', async () => {
    const { text } = await exchange(
      [
        Buffer.from('POST /empty HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n'),
        Buffer.from('y'.repeat(500)),
        Buffer.from('GET /next HTTP/1.1\r\nHost: x\r\n\r\n'),
      ],
      /\/next 0/,
    );
    assert.match(text, /^HTTP\/1\.1 503/);
    assert.match(text, /\/next 0/);
  });

  test('a declared body over the limit is refused before it is sent, without 100 Continue', async () => {
    const { text } = await exchange('POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n', /413/);
    assert.doesNotMatch(text, /100 Continue/);
    assert.match(text, /^HTTP\/1\.1 413/);
  });

  test('an unsupported expectation gets 417', async () => {
    const { text, closed } = await exchange('GET / HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 417/);
    assert.equal(closed, true);
  });

  test('a keep-alive connection left idle past limits.keepalive_timeout is closed', async () => {
    const started = Date.now();
    const { closed, text } = await exchange('GET /idle HTTP/1.1\r\nHost: x\r\n\r\n', undefined, 3000);
    assert.match(text, /\/idle 0/);
    assert.equal(closed, true);
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 2000, `closed after ${took} ms`);
  });

  test('a HEAD response has the head only, and the connection stays in step', async () => {
    const { text } = await exchange('HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /g HTTP/1.1\r\nHost: x\r\n\r\n', /\/g 0/);
    const responses = text.split('HTTP/1.1 ').filter(Boolean);
    assert.equal(responses.length, 2);
    assert.doesNotMatch(responses[0]!, /\/h 0/);
  });
});
