/**
 * Clients that are slow to take their responses. Fulcrum stops reading the backend while the client does not read
 * (backpressure), so the wait is the client's: it is bounded by limits.send_timeout, and never counted against the
 * backend (the pool's body timeout pauses) nor left behind on a pooled backend connection.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { pools, request } from '../support/client.ts';
import { eventually } from '../support/eventually.ts';
import { settle } from '../support/fake-time.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

let backend: TestBackend;
let fulcrum: InProcessFulcrum;

before(async () => {
  backend = await startBackend('origin');
  fulcrum = await startFulcrum({
    limits: { send_timeout: '1s' },
    pools: {
      web: {
        backends: [{ url: backend.url }],
        // A short body timeout: a client's pause longer than this must not fail the backend.
        timeouts: { idle: '300ms', response: '2s' },
        health: { passive: { consecutive_failures: 1 } },
      },
    },
  });
});

after(async () => {
  await fulcrum.stop();
  await backend.close();
});

/** A raw client that sends one request and reads nothing until told to. */
function stalledClient(path: string): { socket: net.Socket; received: () => Buffer; ended: Promise<boolean> } {
  const socket = net.connect(fulcrum.proxyPort, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.pause();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: slow.example\r\nConnection: close\r\n\r\n`);
  const ended = new Promise<boolean>((resolve) => {
    socket.once('end', () => resolve(true));
    socket.once('close', () => resolve(false));
  });
  socket.on('error', () => {});
  return { socket, received: () => Buffer.concat(chunks), ended };
}

function bodyOf(raw: Buffer): Buffer {
  return raw.subarray(raw.indexOf('\r\n\r\n') + 4);
}

describe('slow clients', () => {
  test('a client that pauses longer than the pool body timeout still gets the whole body, and the backend stays in', async (t) => {
    const piece = Buffer.alloc(64 * 1024, 7);
    const pieces = 128; // 8 MiB: more than the socket buffers on the way hold
    let heldBack = false;
    backend.handle((_req, res) => {
      res.writeHead(200, { 'content-length': String(piece.length * pieces) });
      let written = 0;
      const writeSome = (): void => {
        while (written < pieces) {
          written++;
          if (!res.write(piece)) {
            heldBack = true;
            return void res.once('drain', writeSome);
          }
        }
        res.end();
      };
      writeSome();
    });
    t.after(() => backend.handle((_req, res) => res.end('origin')));
    const client = stalledClient('/big');
    t.after(() => client.socket.destroy());
    await eventually(() => heldBack, 5000, 'back-pressure to reach the backend');
    // What is checked is that nothing happens while the client pauses (no body timeout blamed on the backend):
    // there is no event to wait for, so the pause lasts two body timeouts of the pool, within the send timeout.
    await new Promise((r) => setTimeout(r, 600));
    client.socket.resume();
    assert.equal(await client.ended, true);
    assert.equal(bodyOf(client.received()).length, piece.length * pieces);
    const [pool] = await pools(fulcrum.adminUrl);
    assert.equal(pool!.backends[0]!.state, 'healthy', 'the backend was not blamed for the client\'s pause');
  });

  test('a response that ends while Fulcrum waits for a slow client leaves its backend connection ready for the next request', async (t) => {
    // One write of a chunked body larger than the client socket's buffer: its last data and the terminating chunk
    // reach Fulcrum together, while the client's side is full.
    const ports = new Map<string, number | undefined>();
    let sent = false;
    backend.handle((req, res) => {
      ports.set(req.url!, req.socket.remotePort);
      if (req.url === '/chunked') {
        res.writeHead(200, { 'transfer-encoding': 'chunked' });
        res.once('finish', () => (sent = true));
        return void res.end(Buffer.alloc(48 * 1024, 1));
      }
      res.end('next');
    });
    t.after(() => backend.handle((_req, res) => res.end('origin')));
    const client = stalledClient('/chunked');
    t.after(() => client.socket.destroy());
    await eventually(() => sent, 2000, 'the whole chunked response to leave the backend');
    await settle(); // Fulcrum, in this process, reads what loopback has delivered
    // The next request reuses the pooled connection: it must be read, not left paused (a 504 after 2 s).
    const next = await request(`${fulcrum.url}/next`);
    assert.equal(next.status, 200);
    assert.equal(next.text, 'next');
    assert.equal(ports.get('/next'), ports.get('/chunked'), 'on the same backend connection');
    client.socket.resume();
    assert.equal(await client.ended, true);
    assert.ok(client.received().toString('latin1').endsWith('\r\n0\r\n\r\n'), 'the whole chunked body');
  });

  test('a client that takes none of its response for limits.send_timeout is disconnected, and its backend freed', async (t) => {
    let closed = false;
    backend.handle((_req, res) => {
      res.writeHead(200, { 'content-length': String(64 * 1024 * 1024) });
      const chunk = Buffer.alloc(64 * 1024);
      const writeSome = (): void => {
        while (res.write(chunk));
        res.once('drain', writeSome);
      };
      res.on('close', () => (closed = true));
      writeSome();
    });
    t.after(() => backend.handle((_req, res) => res.end('origin')));
    const started = Date.now();
    const client = stalledClient('/never-read');
    t.after(() => client.socket.destroy());
    await eventually(() => closed, 5000, 'the backend connection to be closed');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 900 && elapsed < 4000, `cut after ${elapsed} ms (send_timeout 1s)`);
    client.socket.resume();
    await client.ended;
    assert.ok(bodyOf(client.received()).length < 64 * 1024 * 1024, 'cut, never shown as whole');
    assert.equal((await request(`${fulcrum.url}/`)).status, 200, 'the backend still serves: it was not ejected');
  });
});
