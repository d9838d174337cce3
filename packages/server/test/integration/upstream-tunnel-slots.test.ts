/**
 * Tunnel slots in the upstream client: a tunnel (which dials its own socket) holds one of maxConnections while it
 * is open, waits in the same queue as requests, and is never kept waiting by an idle keep-alive connection.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FulcrumError } from '../../src/errors.ts';
import { Http1Client, type SlotHolder } from '../../src/upstream/http1/client.ts';
import { NO_BODY } from '../../src/upstream/http1/types.ts';
import { eventually } from '../support/eventually.ts';

/** A holder that remembers what happened to its claim. */
function holder(): SlotHolder & { granted: boolean; error: FulcrumError | undefined } {
  return {
    granted: false,
    error: undefined,
    onGranted() {
      this.granted = true;
    },
    onError(e) {
      this.error = e;
    },
  };
}

/** A GET through the client; resolves with the body. */
function get(client: Http1Client): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    client.dispatch(
      { method: 'GET', path: '/', headers: ['host', 'b'], body: NO_BODY, maxBodyBytes: 0, headersTimeout: 2000, bodyTimeout: 2000 },
      {
        onStart() {},
        onResponseStart() {},
        onResponseData: (chunk) => void (body += chunk.toString()),
        onResponseEnd: () => resolve(body),
        onError: reject,
      },
    );
  });
}

describe('tunnel slots of the upstream client', () => {
  let server: http.Server;
  let port: number;
  let open = 0;

  before(async () => {
    server = http.createServer((_req, res) => res.end('ok'));
    server.keepAliveTimeout = 30_000;
    server.on('connection', (s) => {
      open++;
      s.on('close', () => open--);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const clientFor = (maxConnections: number) => new Http1Client({ host: '127.0.0.1', port, maxConnections, connectTimeout: 1000, idleTimeout: 5000 });

  test('a held slot counts against maxConnections: a request waits until the tunnel gives it back', async () => {
    const client = clientFor(1);
    const tunnel = holder();
    const claim = client.claimSlot(tunnel);
    assert.equal(tunnel.granted, true);
    assert.equal(client.connections, 1);
    const answer = get(client);
    assert.equal(client.pending, 1, 'the request waits');
    claim.release();
    assert.equal(await answer, 'ok');
    client.destroy();
  });

  test('a claim waits behind a request in flight, then takes its slot (the connection closes, not reused)', async () => {
    const client = clientFor(1);
    const answer = get(client);
    const tunnel = holder();
    const claim = client.claimSlot(tunnel);
    assert.equal(tunnel.granted, false);
    assert.equal(await answer, 'ok');
    await eventually(() => tunnel.granted, 2000, 'the claim granted');
    await eventually(() => open === 0, 2000, 'the request\'s connection closed');
    claim.release();
    client.destroy();
  });

  test('an idle keep-alive connection closes to make room for a claim', async () => {
    const client = clientFor(1);
    assert.equal(await get(client), 'ok');
    await eventually(() => open === 1, 2000, 'one idle connection');
    const tunnel = holder();
    const claim = client.claimSlot(tunnel);
    await eventually(() => tunnel.granted, 2000, 'the claim granted');
    await eventually(() => open === 0, 2000, 'the idle connection closed');
    claim.release();
    client.destroy();
  });

  test('a claim released while it waits leaves the queue, and a destroyed client refuses the others', async () => {
    const client = clientFor(1);
    const held = client.claimSlot(holder());
    const leaving = holder();
    client.claimSlot(leaving).release();
    assert.equal(client.pending, 0);
    const refused = holder();
    client.claimSlot(refused);
    client.destroy();
    assert.equal(refused.error?.code, 'FUL_ERR_BACKEND_RESET');
    assert.equal(leaving.granted || leaving.error !== undefined, false, 'a claim that left hears nothing more');
    held.release();
  });
});
