/**
 * An Upgrade the backend does not accept (any answer but 101) is an ordinary response: it reaches the client with
 * its own framing and without hop-by-hop fields, and the client connection goes back to reading requests, each
 * routed and rewritten as usual. Nothing the client sends afterwards may reach the refusing backend as tunnel data.
 * Raw sockets on both sides, so that every byte is seen.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { eventually } from '../support/eventually.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';
import { RawClient } from '../support/raw-client.ts';

/** A backend that answers the first request head on each connection with `answer`, and records every byte. */
interface RefusingBackend {
  readonly url: string;
  /** Per connection, everything received, and whether it has closed. */
  readonly connections: { received: string; closed: boolean }[];
  answer: string;
  /** Close the connection after the answer (for a body that runs until the close). */
  closeAfterAnswer: boolean;
  close(): Promise<void>;
}

async function startRefusingBackend(answer: string): Promise<RefusingBackend> {
  const connections: RefusingBackend['connections'] = [];
  const sockets = new Set<net.Socket>();
  const backend = { answer, closeAfterAnswer: false };
  const server = net.createServer((socket) => {
    const conn = { received: '', closed: false };
    connections.push(conn);
    sockets.add(socket);
    let answered = false;
    socket.on('data', (d: Buffer) => {
      conn.received += d.toString('latin1');
      if (!answered && conn.received.includes('\r\n\r\n')) {
        answered = true;
        if (backend.closeAfterAnswer) socket.end(backend.answer);
        else socket.write(backend.answer);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      conn.closed = true;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections,
    get answer() {
      return backend.answer;
    },
    set answer(a: string) {
      backend.answer = a;
    },
    get closeAfterAnswer() {
      return backend.closeAfterAnswer;
    },
    set closeAfterAnswer(c: boolean) {
      backend.closeAfterAnswer = c;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const UPGRADE = 'GET /ws HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
const NEXT = 'GET /other/page HTTP/1.1\r\nHost: app.test\r\n\r\n';
/** A refusal in chunked framing, naming a field of its own in Connection (hop-by-hop: it must not reach the client). */
const CHUNKED_REFUSAL = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: x-hop\r\nX-Hop: secret\r\n\r\n7\r\nrefused\r\n0\r\n\r\n';

describe('an Upgrade answered 200 by its backend', () => {
  let refusing: RefusingBackend;
  let other: TestBackend;
  let fulcrum: InProcessFulcrum;
  let client: RawClient | undefined;

  before(async () => {
    refusing = await startRefusingBackend(CHUNKED_REFUSAL);
    other = await startBackend('other');
    fulcrum = await startFulcrum({
      pools: { ws: { backends: [{ url: refusing.url }] }, other: { backends: [{ url: other.url }] } },
      routes: [
        { match: { path_prefix: '/ws' }, pool: 'ws' },
        { match: { path_prefix: '/other' }, pool: 'other' },
      ],
    });
  });

  afterEach(() => {
    client?.close();
    refusing.answer = CHUNKED_REFUSAL;
    refusing.closeAfterAnswer = false;
  });

  after(async () => {
    await fulcrum?.stop();
    await refusing?.close();
    await other?.close();
  });

  /** Everything the refusing backend received, on all its connections. */
  const receivedByRefusing = () => refusing.connections.map((c) => c.received).join('');

  test('issue 13 #2: the next request on the connection is routed and rewritten, and never reaches the refusing backend', async () => {
    const seenBefore = receivedByRefusing().length;
    client = await RawClient.open(fulcrum.proxyPort);
    client.write(UPGRADE);
    const refusal = await client.response();
    assert.equal(refusal.status, 200);
    assert.equal(refusal.body, 'refused');
    client.write(NEXT);
    const next = await client.response();
    assert.equal(next.status, 200);
    assert.equal(next.body, 'other', 'routed to the other pool');
    const seen = other.requests.at(-1)!;
    assert.equal(seen.url, '/other/page');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'rewritten like any request');
    assert.equal(seen.headers.via, '1.1 fulcrum');
    const received = receivedByRefusing().slice(seenBefore);
    assert.equal(received.split('HTTP/1.1\r\n').length - 1, 1, `one request head at the refusing backend: ${JSON.stringify(received)}`);
    assert.ok(!received.includes('/other/page'), 'no tunnel data');
  });

  test('issue 13 #2: a request pipelined right behind the Upgrade waits for the refusal, then is routed as a request', async () => {
    const seenBefore = receivedByRefusing().length;
    client = await RawClient.open(fulcrum.proxyPort);
    client.write(UPGRADE + NEXT + 'GET /nowhere HTTP/1.1\r\nHost: app.test\r\n\r\n');
    assert.equal((await client.response()).body, 'refused');
    const next = await client.response();
    assert.equal(next.body, 'other');
    const unrouted = await client.response();
    assert.equal(unrouted.status, 404, 'no route: the limits and routing of any request apply');
    assert.match(unrouted.body, /FUL_ERR_NO_ROUTE/);
    assert.ok(!receivedByRefusing().slice(seenBefore).includes('/other/page'), 'no tunnel data');
  });

  test('issue 13 #2: the refusal keeps its own framing and loses its hop-by-hop fields', async () => {
    client = await RawClient.open(fulcrum.proxyPort);
    client.write(UPGRADE);
    const refusal = await client.response();
    assert.equal(refusal.headers['transfer-encoding'], 'chunked');
    assert.equal(refusal.headers['x-hop'], undefined, 'a field named in Connection is dropped');
    assert.equal(refusal.headers.upgrade, undefined);
    assert.equal(refusal.headers.connection, undefined, 'the client connection stays open');
    assert.equal(refusal.headers.via, '1.1 fulcrum');
    assert.match(refusal.headers['x-request-id'] ?? '', /^[0-9a-f]{32}$/);
    assert.equal(client.isClosed, false);
  });

  test('issue 13 #2: a Content-Length refusal is forwarded with its length, and the backend connection is closed', async () => {
    refusing.answer = 'HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nContent-Type: text/plain\r\n\r\nforbidden';
    const connectionsBefore = refusing.connections.length;
    client = await RawClient.open(fulcrum.proxyPort);
    client.write(UPGRADE);
    const refusal = await client.response();
    assert.equal(refusal.status, 403);
    assert.equal(refusal.headers['content-length'], '9');
    assert.equal(refusal.body, 'forbidden');
    const conn = refusing.connections[connectionsBefore]!;
    await eventually(() => conn.closed, 2000, 'the backend connection closed');
  });

  test('issue 13 #2: a refusal whose body runs until the backend closes reaches the client whole, re-framed', async () => {
    refusing.answer = 'HTTP/1.1 409 Conflict\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nuntil the close';
    refusing.closeAfterAnswer = true;
    client = await RawClient.open(fulcrum.proxyPort);
    client.write(UPGRADE);
    const refusal = await client.response();
    assert.equal(refusal.status, 409);
    assert.equal(refusal.headers['transfer-encoding'], 'chunked');
    assert.equal(refusal.body, 'until the close');
    client.write(NEXT);
    assert.equal((await client.response()).body, 'other', 'the client connection carries on');
  });

  test('issue 13 #2: after a refusal nothing stays in flight on the backend', async () => {
    client = await RawClient.open(fulcrum.proxyPort);
    client.write(UPGRADE);
    await client.response();
    const pools = (await (await fetch(`${fulcrum.adminUrl}/api/pools`)).json()) as { name: string; backends: { inFlight: number }[] }[];
    assert.equal(pools.find((p) => p.name === 'ws')!.backends[0]!.inFlight, 0);
  });
});

describe('an Upgrade request with a body', () => {
  let backend: TestBackend;
  let fulcrum: InProcessFulcrum;

  before(async () => {
    backend = await startBackend('plain');
    fulcrum = await startFulcrum({ pools: { web: { backends: [{ url: backend.url }] } } });
  });

  after(async () => {
    await fulcrum?.stop();
    await backend?.close();
  });

  test('issue 13 #2: is served as a plain request (the Upgrade ignored, RFC 9110 §7.8), its body framed, the connection reused', async () => {
    const client = await RawClient.open(fulcrum.proxyPort);
    try {
      client.write(
        'POST /up HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 5\r\n\r\nhello' +
          'GET /after HTTP/1.1\r\nHost: app.test\r\n\r\n',
      );
      const first = await client.response();
      assert.equal(first.status, 200);
      const second = await client.response();
      assert.equal(second.status, 200);
      const [up, after] = backend.requests.slice(-2);
      assert.equal(up!.method, 'POST');
      assert.equal(up!.body.toString(), 'hello');
      assert.equal(up!.headers.upgrade, undefined, 'Upgrade is hop-by-hop and not acted on');
      assert.equal(after!.url, '/after', 'the request after the body is a request of its own');
    } finally {
      client.close();
    }
  });
});
