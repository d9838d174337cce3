/**
 * Upgrades end to end: a real WebSocket client (Node's global WebSocket) through Fulcrum to a real WebSocket
 * backend, the tunnel's accounting, and refusals.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closedPort } from '../support/backend.ts';
import { pools, request } from '../support/client.ts';
import { eventually } from '../support/eventually.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';
import { RawClient } from '../support/raw-client.ts';
import { acceptKey, startWebSocketBackend, upgradeRequest, type WebSocketBackend } from '../support/websocket.ts';

/** Sockets opened by a test, closed after it. */
const sockets: WebSocket[] = [];
afterEach(() => {
  for (const ws of sockets.splice(0)) ws.close();
});

/** Node's global WebSocket (undici's) takes request headers; the DOM typings the compiler sees do not say so. */
type WebSocketWithHeaders = new (url: string, init: { headers: Record<string, string> }) => WebSocket;

/** Opens a WebSocket and waits for it to be open. */
async function connect(url: string, headers?: Record<string, string>): Promise<WebSocket> {
  const ws = new (WebSocket as unknown as WebSocketWithHeaders)(url, { headers: headers ?? {} });
  sockets.push(ws);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`WebSocket to ${url} failed`)), { once: true });
  });
  return ws;
}

/** Sends a text message and waits for the next message back. */
async function roundTrip(ws: WebSocket, text: string): Promise<string> {
  const reply = new Promise<string>((resolve) => ws.addEventListener('message', (e) => resolve(String(e.data)), { once: true }));
  ws.send(text);
  return reply;
}

async function closeAndWait(ws: WebSocket): Promise<void> {
  const closed = new Promise<void>((resolve) => ws.addEventListener('close', () => resolve(), { once: true }));
  ws.close();
  await closed;
}

describe('WebSocket tunnel', () => {
  let backend: WebSocketBackend;
  let fulcrum: InProcessFulcrum;
  let wsUrl: string;

  before(async () => {
    backend = await startWebSocketBackend('ws0');
    fulcrum = await startFulcrum({ pools: { chat: { backends: [{ url: backend.url }] } } });
    wsUrl = `ws://127.0.0.1:${fulcrum.proxyPort}/chat`;
  });

  after(async () => {
    await fulcrum?.stop();
    await backend?.close();
  });

  afterEach(() => {
    backend.refuse = undefined;
  });

  test('a WebSocket message goes through Fulcrum to the backend and its answer comes back', async () => {
    const ws = await connect(wsUrl);
    assert.equal(await roundTrip(ws, 'hello'), 'ws0:hello');
    assert.equal(await roundTrip(ws, 'again'), 'ws0:again');
    await closeAndWait(ws);
  });

  test('the upgrade request reaches the backend with forwarding headers added and Upgrade kept', async () => {
    const ws = await connect(wsUrl, { 'x-request-id': 'ws-upgrade-1' });
    const seen = backend.upgrades.at(-1)!;
    assert.equal(seen.upgrade, 'websocket');
    assert.match(String(seen.connection), /upgrade/i);
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-request-id'], 'ws-upgrade-1');
    assert.equal(seen.via, '1.1 fulcrum');
    await closeAndWait(ws);
  });

  test('an open WebSocket counts as one request in flight on its backend, and none once closed', async () => {
    const inFlight = async () => (await pools(fulcrum.adminUrl))[0]!.backends[0]!.inFlight;
    const ws = await connect(wsUrl);
    assert.equal(await inFlight(), 1);
    await closeAndWait(ws);
    await eventually(async () => (await inFlight()) === 0, 2000, 'inFlight back to 0');
    const metrics = await (await fetch(`${fulcrum.adminUrl}/metrics`)).text();
    assert.match(metrics, /fulcrum_http_requests_total\{pool="[^"]+",backend="[^"]+",code_class="1xx"\} [1-9]/, 'tunnels count as requests answered 101');
  });

  test('a backend that refuses the upgrade has its answer passed to the client as it is', async () => {
    backend.refuse = { status: 400, body: 'no websockets today' };
    const res = await upgradeRequest(`${fulcrum.url}/chat`);
    assert.equal(res.status, 400);
    assert.equal(res.text, 'no websockets today');
  });

  test('a refused upgrade leaves nothing in flight', async () => {
    backend.refuse = { status: 403, body: 'forbidden' };
    await upgradeRequest(`${fulcrum.url}/chat`);
    await eventually(async () => (await pools(fulcrum.adminUrl))[0]!.backends[0]!.inFlight === 0, 2000, 'inFlight back to 0');
  });

  test('bytes the client sends before the 101 wait, then reach the backend as the tunnel\'s first bytes', async () => {
    const client = await RawClient.open(fulcrum.proxyPort);
    try {
      const frame = Buffer.from([0x81, 5, ...Buffer.from('early')]); // an unmasked text frame: enough for this backend
      client.write(
        Buffer.concat([
          Buffer.from('GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'),
          frame,
        ]),
      );
      const switched = await client.response();
      assert.equal(switched.status, 101);
      assert.equal(switched.headers.upgrade, 'websocket');
      assert.match(switched.headers.connection ?? '', /upgrade/i);
      assert.equal(switched.headers['sec-websocket-accept'], acceptKey('dGhlIHNhbXBsZSBub25jZQ=='));
      const echo = await client.bytes(2 + 'ws0:early'.length);
      assert.equal(echo.subarray(2).toString(), 'ws0:early');
    } finally {
      client.close();
    }
  });

  test('closing the backend side closes the client\'s WebSocket', async () => {
    const ws = await connect(wsUrl);
    const closed = new Promise<void>((resolve) => ws.addEventListener('close', () => resolve(), { once: true }));
    for (const s of backend.open) s.destroy();
    await closed;
  });
});

test('an upgrade to a backend that refuses connections gets 502 FUL_ERR_CONNECT_FAILED', async (t) => {
  const port = await closedPort();
  const fulcrum = await startFulcrum({ pools: { chat: { backends: [{ url: `http://127.0.0.1:${port}` }] } } });
  t.after(() => fulcrum.stop());
  const res = await upgradeRequest(`${fulcrum.url}/chat`);
  assert.equal(res.status, 502);
  assert.match(res.text, /code: FUL_ERR_CONNECT_FAILED/);
});

describe('upgrades and backend affinity', () => {
  let backends: WebSocketBackend[];
  let fulcrum: InProcessFulcrum;

  before(async () => {
    backends = [await startWebSocketBackend('ws0'), await startWebSocketBackend('ws1'), await startWebSocketBackend('ws2')];
    fulcrum = await startFulcrum({
      pools: {
        sticky: { algorithm: 'sticky', backends: backends.map((b) => ({ url: b.url })) },
        hashed: { algorithm: 'consistent-hash', hash: { key: 'header:X-User' }, backends: backends.map((b) => ({ url: b.url })) },
      },
      routes: [{ match: { path_prefix: '/sticky' }, pool: 'sticky' }, { match: { path_prefix: '/hashed' }, pool: 'hashed' }],
    });
  });

  after(async () => {
    await fulcrum?.stop();
    for (const b of backends ?? []) await b.close();
  });

  test('a WebSocket with the sticky cookie goes to the backend the cookie names', async () => {
    const res = await request(`${fulcrum.url}/sticky`);
    const cookie = String(res.headers['set-cookie']?.[0]).split(';')[0]!;
    const pinned = res.text; // the backend that set the cookie
    for (let i = 0; i < 4; i++) {
      const ws = await connect(`ws://127.0.0.1:${fulcrum.proxyPort}/sticky`, { cookie });
      assert.equal(await roundTrip(ws, 'x'), `${pinned}:x`);
      await closeAndWait(ws);
    }
  });

  test('WebSockets with the same consistent-hash key go to the same backend', async () => {
    for (const user of ['alice', 'bob']) {
      const answers = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const ws = await connect(`ws://127.0.0.1:${fulcrum.proxyPort}/hashed`, { 'x-user': user });
        answers.add((await roundTrip(ws, 'x')).split(':')[0]!);
        await closeAndWait(ws);
      }
      assert.equal(answers.size, 1, `${user} went to ${[...answers].join(', ')}`);
    }
  });
});
