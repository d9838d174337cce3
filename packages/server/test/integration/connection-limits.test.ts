/**
 * limits.max_connections and max_connections_per_ip, at accept, over real sockets from several loopback addresses:
 * a connection over a limit is closed before anything is read or written, the others are served, a close frees a
 * slot, and /metrics and /api/limits count the refusals.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { getJson, sample, scrape } from '../support/client.ts';
import { eventually, startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';
import { askOn, connectFrom } from '../support/limits.ts';
import { makeCa, makeCert } from '../support/certs.ts';
import { handshake } from '../support/tls-client.ts';
import type { ConnectionOptions } from 'node:tls';

/** TLS from a chosen loopback address (net.connect's localAddress, which tls.connect passes on but does not type). */
const tlsFrom = (localAddress: string) => ({ servername: 'limits.test', localAddress }) as ConnectionOptions;
import type { LimitsView } from '../../src/admin/views.ts';

describe('connection limits', () => {
  let backend: TestBackend;
  let fulcrum: InProcessFulcrum;
  const open: net.Socket[] = [];

  before(async () => {
    backend = await startBackend('origin');
    fulcrum = await startFulcrum({
      limits: { max_connections: 4, max_connections_per_ip: 2 },
      pools: { web: { backends: [{ url: backend.url }] } },
    });
  });

  after(async () => {
    for (const s of open) s.destroy();
    await fulcrum?.stop();
    await backend?.close();
  });

  const connect = async (from: string) => {
    const socket = await connectFrom(fulcrum.proxyPort, from);
    open.push(socket);
    return socket;
  };
  const refusals = async (limit: string) => sample(await scrape(fulcrum.adminUrl), 'fulcrum_http_connections_refused_total', { limit }) ?? 0;

  test('one address gets max_connections_per_ip connections; the next is closed unanswered, other addresses are served', async () => {
    const [a1, a2] = [await connect('127.0.0.2'), await connect('127.0.0.2')];
    assert.deepEqual([await askOn(a1), await askOn(a2)], [200, 200]);
    const before = backend.count();
    assert.equal(await askOn(await connect('127.0.0.2')), 'closed');
    assert.equal(backend.count(), before, 'nothing of it reached the backend');
    assert.equal(await askOn(await connect('127.0.0.3')), 200);
    assert.equal(await refusals('max_connections_per_ip'), 1);
  });

  test('past max_connections in all, any new connection is closed, whatever its address', async () => {
    // Open: two from .2, one from .3 (the refused one is gone). One more fits.
    assert.equal(await askOn(await connect('127.0.0.4')), 200);
    assert.equal(await askOn(await connect('127.0.0.5')), 'closed');
    assert.equal(await refusals('max_connections'), 1);
  });

  test('a connection that closes frees its slot, in all and for its address', async () => {
    for (const s of open.splice(0, 2)) s.destroy(); // the two from 127.0.0.2
    await eventually(async () => (await askOn(await connect('127.0.0.2'))) === 200, 5000, 'a slot for 127.0.0.2');
    assert.equal(await askOn(await connect('127.0.0.2')), 200);
  });

  test('/api/limits shows the limits, the connections open and those refused', async () => {
    const { body } = await getJson<LimitsView>(`${fulcrum.adminUrl}/api/limits`);
    assert.equal(body.connections.max, 4);
    assert.equal(body.connections.maxPerIp, 2);
    assert.ok(body.connections.refused.maxConnections >= 1);
    assert.ok(body.connections.refused.maxConnectionsPerIp >= 1);
    assert.deepEqual(body.routes, []);
  });
});

describe('connection limits with a TLS listener beside a plain one', () => {
  let backend: TestBackend;
  let fulcrum: InProcessFulcrum;

  before(async () => {
    const ca = await makeCa();
    const cert = await makeCert(ca, ['limits.test']);
    backend = await startBackend('origin');
    fulcrum = await startFulcrum({
      listeners: [{ listen: '127.0.0.1:0' }, { listen: '127.0.0.1:0', tls: { certificates: [{ cert: cert.certFile, key: cert.keyFile }] } }],
      limits: { max_connections_per_ip: 1 },
      pools: { web: { backends: [{ url: backend.url }] } },
    });
  });

  after(async () => {
    await fulcrum?.stop();
    await backend?.close();
  });

  test('one count for every listener, decided before the TLS handshake: a refused client gets no handshake at all', async () => {
    const [plainPort, tlsPort] = fulcrum.ports as [number, number];
    const held = await handshake(tlsPort, tlsFrom('127.0.0.2'));
    try {
      assert.equal(await askOn(await connectFrom(plainPort, '127.0.0.2')), 'closed', 'the TLS connection holds the slot on the plain listener too');
      await assert.rejects(handshake(tlsPort, tlsFrom('127.0.0.2')), /ECONNRESET|socket disconnected|EPIPE/);
      const other = await handshake(tlsPort, tlsFrom('127.0.0.3'));
      other.socket.destroy();
    } finally {
      held.socket.destroy();
    }
    await eventually(async () => (await askOn(await connectFrom(plainPort, '127.0.0.2'))) === 200, 5000, 'the slot freed by the TLS close');
  });
});
