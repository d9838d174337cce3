/**
 * Tunnels and the circuit breaker: each open tunnel holds one of its backend's max_connections, as a connection
 * to the backend does in HAProxy (maxconn) and Envoy (circuit breakers). Beyond them an upgrade waits in the
 * pool's pending queue while it has room (at most the connect timeout), else it gets 503 FUL_ERR_CIRCUIT_OPEN.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../support/client.ts';
import { eventually } from '../support/eventually.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';
import { RawClient, type RawResponse } from '../support/raw-client.ts';
import { startWebSocketBackend, type WebSocketBackend } from '../support/websocket.ts';

const UPGRADE = 'GET /chat HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

/** Clients opened by a test, closed after it. */
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
});

/** A WebSocket handshake over a raw socket: the answer's head (and body, for a refusal); a 101 stays open. */
async function upgrade(port: number): Promise<RawResponse> {
  const client = await RawClient.open(port);
  clients.push(client);
  client.write(UPGRADE);
  return client.response();
}

describe('WebSockets with max_connections 2 and the default max_pending', () => {
  let backend: WebSocketBackend;
  let fulcrum: InProcessFulcrum;

  before(async () => {
    backend = await startWebSocketBackend('ws');
    fulcrum = await startFulcrum({ pools: { chat: { backends: [{ url: backend.url }], circuit_breaker: { max_connections: 2 } } } });
  });

  after(async () => {
    await fulcrum?.stop();
    await backend?.close();
  });

  test('issue 13 #13: of six concurrent upgrades two open tunnels and four wait; each closed tunnel lets one more through', async () => {
    const sent = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const client = await RawClient.open(fulcrum.proxyPort);
        clients.push(client);
        client.write(UPGRADE);
        return client;
      }),
    );
    const answered = new Map<RawClient, RawResponse>();
    const answers = sent.map((c) => c.response().then((a) => void answered.set(c, a)));
    await eventually(() => answered.size === 2, 2000, 'two tunnels open');
    assert.equal(backend.upgrades.length, 2, 'four upgrades wait in the queue');
    assert.equal(backend.peakConnections, 2);
    const closed = new Set<RawClient>();
    for (let open = 2; open < 6; open += 2) {
      // The tunnels open so far close; as many queued upgrades take their slots, and no more.
      for (const c of answered.keys()) {
        if (closed.has(c)) continue;
        closed.add(c);
        c.close();
      }
      await eventually(() => answered.size === open + 2, 2000, `${open + 2} tunnels opened`);
      assert.equal(backend.upgrades.length, open + 2, 'no upgrade beyond the freed slots reached the backend');
    }
    await Promise.all(answers);
    assert.deepEqual(
      [...answered.values()].map((a) => a.status),
      [101, 101, 101, 101, 101, 101],
    );
  });
});

describe('WebSockets with max_connections 2 and max_pending 0', () => {
  let backend: WebSocketBackend;
  let fulcrum: InProcessFulcrum;

  before(async () => {
    backend = await startWebSocketBackend('ws');
    fulcrum = await startFulcrum({
      pools: { chat: { backends: [{ url: backend.url }], circuit_breaker: { max_connections: 2, max_pending: 0 } } },
    });
  });

  after(async () => {
    await fulcrum?.stop();
    await backend?.close();
  });

  test('of six concurrent upgrades two open tunnels and four get 503 FUL_ERR_CIRCUIT_OPEN; the backend never sees a third connection', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => upgrade(fulcrum.proxyPort)));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [101, 101, 503, 503, 503, 503]);
    for (const a of answers.filter((r) => r.status === 503)) assert.match(a.body, /code: FUL_ERR_CIRCUIT_OPEN/);
    assert.equal(backend.open.size, 2);
    assert.equal(backend.peakConnections, 2);
  });

  test('once a tunnel closes, its slot takes a new upgrade', async () => {
    await eventually(() => backend.connections() === 0, 2000, 'the last test\'s tunnels closed at the backend');
    assert.equal((await upgrade(fulcrum.proxyPort)).status, 101);
    assert.equal((await upgrade(fulcrum.proxyPort)).status, 101);
    assert.equal((await upgrade(fulcrum.proxyPort)).status, 503);
    clients[0]!.close();
    await eventually(() => backend.connections() === 1, 2000, 'one tunnel closed at the backend');
    assert.equal((await upgrade(fulcrum.proxyPort)).status, 101);
  });
});

describe('WebSockets with max_connections 2 and max_pending 1', () => {
  let backend: WebSocketBackend;
  let fulcrum: InProcessFulcrum;

  before(async () => {
    backend = await startWebSocketBackend('ws');
    fulcrum = await startFulcrum({
      pools: {
        chat: {
          backends: [{ url: backend.url }],
          circuit_breaker: { max_connections: 2, max_pending: 1 },
          timeouts: { connect: '1s' },
        },
      },
    });
  });

  after(async () => {
    await fulcrum?.stop();
    await backend?.close();
  });

  test('issue 13 #13: of two more upgrades one waits in the queue and opens its tunnel when one closes, the other gets 503', async () => {
    assert.equal((await upgrade(fulcrum.proxyPort)).status, 101);
    assert.equal((await upgrade(fulcrum.proxyPort)).status, 101);
    const answers = [upgrade(fulcrum.proxyPort), upgrade(fulcrum.proxyPort)];
    const first = await Promise.race(answers);
    assert.equal(first.status, 503, 'the queue holds one');
    assert.match(first.body, /code: FUL_ERR_CIRCUIT_OPEN/);
    assert.equal(backend.upgrades.length, 2, 'the queued upgrade has not reached the backend');
    clients[0]!.close();
    const statuses = (await Promise.all(answers)).map((a) => a.status).sort();
    assert.deepEqual(statuses, [101, 503]);
    assert.equal(backend.upgrades.length, 3, 'the shed upgrade never reached the backend');
  });

  test('issue 13 #13: an upgrade queued longer than the connect timeout gets 503 FUL_ERR_CIRCUIT_OPEN and leaves the queue', async () => {
    await eventually(() => backend.connections() === 0, 2000, 'the last test\'s tunnels closed at the backend');
    assert.equal((await upgrade(fulcrum.proxyPort)).status, 101);
    assert.equal((await upgrade(fulcrum.proxyPort)).status, 101);
    const started = Date.now();
    const late = await upgrade(fulcrum.proxyPort);
    assert.equal(late.status, 503);
    assert.match(late.body, /code: FUL_ERR_CIRCUIT_OPEN/);
    assert.ok(Date.now() - started >= 900, 'it waited for the connect timeout');
    // The queue has room again: the next upgrade waits (not 503 at once) and takes the slot a closing tunnel frees.
    const next = upgrade(fulcrum.proxyPort);
    await eventually(() => clients.length === 4, 2000, 'the next upgrade sent');
    clients[0]!.close();
    assert.equal((await next).status, 101);
  });

  test('issue 13 #13: an idle keep-alive connection gives its slot to a tunnel rather than exceed max_connections', async () => {
    await eventually(() => backend.connections() === 0, 2000, 'the last test\'s tunnels closed at the backend');
    assert.equal((await request(`${fulcrum.url}/plain`)).status, 200); // leaves one keep-alive connection idle
    assert.equal(backend.connections(), 1);
    assert.equal((await upgrade(fulcrum.proxyPort)).status, 101);
    assert.equal((await upgrade(fulcrum.proxyPort)).status, 101);
    await eventually(() => backend.connections() === 2, 2000, 'the idle connection closed');
    assert.equal(backend.open.size, 2);
  });
});
