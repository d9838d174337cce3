import assert from 'node:assert/strict';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { writeFile } from 'node:fs/promises';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { makeCa, makeCert, type TestCa, type TestCert } from '../support/certs.ts';
import { request } from '../support/client.ts';
import { RawClient } from '../support/raw-client.ts';
import { eventually, spawnFulcrum, startFulcrum, testConfig, type InProcessFulcrum } from '../support/fulcrum.ts';
import { handshake, httpsGet, namesOf } from '../support/tls-client.ts';
import { MOZILLA_INTERMEDIATE_CIPHERS } from '../../src/config/listeners.ts';
import type { ConfigInput } from '../../src/config/schema.ts';

let ca: TestCa;
let main: TestCert;
let other: TestCert;
let wild: TestCert;
let backend: TestBackend;
const running: InProcessFulcrum[] = [];

before(async () => {
  ca = await makeCa();
  [main, other, wild] = await Promise.all([
    makeCert(ca, ['main.test', '127.0.0.1'], 'main'),
    makeCert(ca, ['other.test'], 'other'),
    makeCert(ca, ['*.wild.test'], 'wild'),
  ]);
  backend = await startBackend('tls-backend');
});
after(async () => {
  for (const f of running) await f.stop();
  await backend.close();
});

function tlsListener(certs: TestCert[], extra: Record<string, unknown> = {}) {
  return { listen: '127.0.0.1:0', tls: { certificates: certs.map((c) => ({ cert: c.certFile, key: c.keyFile })), ...extra } };
}

async function start(listeners: ConfigInput['listeners'], extra: Partial<ConfigInput> = {}, file?: string): Promise<InProcessFulcrum> {
  const f = await startFulcrum({ listeners, pools: { p: { backends: [{ url: backend.url }] } }, ...extra }, file);
  running.push(f);
  return f;
}

describe('TLS listeners', () => {
  test('SNI picks the certificate by exact name, then by wildcard, else the first one', async () => {
    const f = await start([tlsListener([main, other, wild])]);
    const port = f.ports[0]!;
    const cases: Array<[string | undefined, string]> = [
      ['other.test', 'other.test'],
      ['main.test', 'main.test'],
      ['a.wild.test', '*.wild.test'],
      ['a.b.wild.test', 'main.test'], // a wildcard covers one label only
      ['unknown.test', 'main.test'],
      [undefined, 'main.test'], // no SNI at all (an IP address)
    ];
    for (const [servername, expected] of cases) {
      const h = await handshake(port, servername === undefined ? {} : { servername });
      assert.ok(namesOf(h.cert).includes(expected), `${servername ?? '(no SNI)'} got ${namesOf(h.cert).join(',')}`);
      h.socket.destroy();
    }
  });

  test('TLS 1.2 and 1.3 are accepted, 1.2 only with the configured ciphers; TLS 1.1 and 1.0 are refused', async () => {
    const f = await start([tlsListener([main])]);
    const port = f.ports[0]!;
    const v13 = await handshake(port, { servername: 'main.test', ca: ca.cert, rejectUnauthorized: true });
    assert.equal(v13.protocol, 'TLSv1.3');
    v13.socket.destroy();
    const v12 = await handshake(port, { servername: 'main.test', maxVersion: 'TLSv1.2' });
    assert.equal(v12.protocol, 'TLSv1.2');
    assert.ok(MOZILLA_INTERMEDIATE_CIPHERS.split(':').includes(v12.socket.getCipher().name), v12.socket.getCipher().name);
    v12.socket.destroy();
    // A client that only speaks an old protocol (its own security level lowered so that it offers it).
    for (const old of ['TLSv1.1', 'TLSv1'] as const) {
      await assert.rejects(
        handshake(port, { servername: 'main.test', minVersion: old, maxVersion: old, ciphers: 'DEFAULT@SECLEVEL=0' }),
        /protocol|version|alert/i,
        `${old} must be refused`,
      );
    }
    // A TLS 1.2 client offering only CBC suites outside the list is refused too.
    await assert.rejects(handshake(port, { servername: 'main.test', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' }), /handshake|cipher|alert/i);
  });

  test('min_version TLSv1.3 refuses TLS 1.2', async () => {
    const f = await start([tlsListener([main], { min_version: 'TLSv1.3' })]);
    await assert.rejects(handshake(f.ports[0]!, { servername: 'main.test', maxVersion: 'TLSv1.2' }), /protocol|version|alert/i);
  });

  test('ALPN agrees http/1.1; bytes that are not a TLS hello close the connection', async () => {
    const f = await start([tlsListener([main])]);
    const h = await handshake(f.ports[0]!, { servername: 'main.test', ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(h.socket.alpnProtocol, 'http/1.1');
    h.socket.destroy();
    await assert.rejects(request(`http://127.0.0.1:${f.ports[0]}/`), /socket hang up|ECONNRESET/);
  });

  test('a request over TLS reaches the backend with X-Forwarded-Proto: https; over plain HTTP with http', async () => {
    const f = await start([tlsListener([main]), { listen: '127.0.0.1:0' }]);
    const before = backend.requests.length;
    const secure = await httpsGet(f.ports[0]!, '/over-tls', { ca: ca.cert, servername: 'main.test' });
    assert.equal(secure.status, 200);
    assert.equal(secure.body, 'tls-backend');
    const plain = await request(`http://127.0.0.1:${f.ports[1]}/over-plain`);
    assert.equal(plain.status, 200);
    const seen = backend.requests.slice(before);
    assert.equal(seen.find((r) => r.url === '/over-tls')?.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.find((r) => r.url === '/over-plain')?.headers['x-forwarded-proto'], 'http');
  });

  test('the cache keeps http and https answers apart: the scheme is part of the key', async () => {
    const scheme = await startBackend('scheme-backend');
    scheme.handle((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' });
      res.end(String(req.headers['x-forwarded-proto']));
    });
    try {
      const f = await startFulcrum({
        listeners: [tlsListener([main]), { listen: '127.0.0.1:0' }],
        pools: { p: { backends: [{ url: scheme.url }] } },
        routes: [{ match: {}, pool: 'p', cache: {} }],
      });
      running.push(f);
      const overTls = await httpsGet(f.ports[0]!, '/page', { ca: ca.cert, servername: 'main.test', headers: { host: 'site.test' } });
      assert.equal(overTls.body, 'https');
      const plain = await request(`http://127.0.0.1:${f.ports[1]}/page`, { headers: { host: 'site.test' } });
      assert.equal(plain.text, 'http', 'not the https answer from the cache');
      const again = await httpsGet(f.ports[0]!, '/page', { ca: ca.cert, servername: 'main.test', headers: { host: 'site.test' } });
      assert.equal(again.body, 'https');
      assert.match(String(again.headers['cache-status']), /hit/);
      assert.equal(scheme.count(), 2);
    } finally {
      await scheme.close();
    }
  });

  test('session tickets resume a session on a new connection', async () => {
    const f = await start([tlsListener([main])]);
    const port = f.ports[0]!;
    const session = await new Promise<Buffer>((resolve, reject) => {
      const s = https.get({ host: '127.0.0.1', port, servername: 'main.test', ca: ca.cert, agent: false, path: '/' }, (res) => {
        res.resume();
      });
      s.on('socket', (sock) => sock.once('session', (session: Buffer) => resolve(session)));
      s.on('error', reject);
    });
    const again = await handshake(port, { servername: 'main.test', session, maxVersion: 'TLSv1.3' });
    assert.equal(again.socket.isSessionReused(), true);
    again.socket.destroy();
  });

  test('a plain listener with redirect_https answers 308 to the same host and target on the TLS port', async () => {
    const f = await start([tlsListener([main]), { listen: '127.0.0.1:0', redirect_https: true }]);
    const before = backend.requests.length;
    const res = await request(`http://127.0.0.1:${f.ports[1]}/a/b?c=1&d`, { method: 'POST', headers: { host: 'Shop.Example:8080' }, body: 'x' });
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, `https://shop.example:${f.ports[0]}/a/b?c=1&d`);
    const fixed = await start([tlsListener([main]), { listen: '127.0.0.1:0', redirect_https: 443 }]);
    const plain443 = await request(`http://127.0.0.1:${fixed.ports[1]}/x`, { headers: { host: 'shop.example' } });
    assert.equal(plain443.headers.location, 'https://shop.example/x');
    const raw = await RawClient.open(fixed.ports[1]!);
    raw.write('GET /x HTTP/1.0\r\n\r\n'); // no Host at all: nowhere to send the client
    assert.equal((await raw.response()).status, 400);
    raw.socket.destroy();
    assert.equal(backend.requests.length, before, 'nothing reached the backend');
  });

  test('a certificate file replaced on disk is served to new connections; an open keep-alive connection carries on', async () => {
    const swap = await makeCert(ca, ['swap.test'], 'swap');
    const f = await start([tlsListener([swap])]);
    const port = f.ports[0]!;
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const first = await httpsGet(port, '/', { ca: ca.cert, servername: 'swap.test', agent });
    assert.equal(first.status, 200);
    const renewed = await makeCert(ca, ['swap.test'], 'swap'); // same files, new certificate and key
    await eventually(async () => {
      const h = await handshake(port, { servername: 'swap.test' });
      h.socket.destroy();
      return h.cert.fingerprint256 !== first.fingerprint;
    }, 10_000, 'the new certificate to be served');
    const fresh = await handshake(port, { servername: 'swap.test', ca: ca.cert, rejectUnauthorized: true });
    assert.equal(fresh.cert.serialNumber, (await handshake(port, { servername: 'swap.test' })).cert.serialNumber);
    assert.ok(renewed.cert.includes('BEGIN CERTIFICATE'));
    fresh.socket.destroy();
    const second = await httpsGet(port, '/', { ca: ca.cert, servername: 'swap.test', agent });
    assert.equal(second.status, 200);
    assert.equal(second.reusedSocket, true, 'the keep-alive connection was kept');
    assert.equal(second.fingerprint, first.fingerprint, 'and still speaks with the certificate it was made with');
    agent.destroy();
  });

  test('a reload (SIGHUP) takes a listener\'s new certificate files; a missing file is refused naming the listener', async () => {
    const file = join(ca.dir, 'reload.yaml');
    const config = (cert: TestCert | { certFile: string; keyFile: string }) =>
      testConfig({ listeners: [tlsListener([cert as TestCert])], pools: { p: { backends: [{ url: backend.url }] } } });
    await writeFile(file, stringify(config(main)));
    const f = await start(config(main).listeners, {}, file);
    const port = f.ports[0]!;
    const h1 = await handshake(port, {});
    assert.ok(namesOf(h1.cert).includes('main.test'));
    h1.socket.destroy();
    await writeFile(file, stringify(config({ certFile: join(ca.dir, 'missing.pem'), keyFile: other.keyFile })));
    const refused = await f.reload();
    assert.equal(refused.ok, false);
    assert.ok(!refused.ok);
    assert.equal(refused.problems[0]!.path, 'listeners[0].tls.certificates[0].cert');
    assert.match(refused.problems[0]!.message, /cannot read .*missing\.pem: ENOENT/);
    await writeFile(file, stringify(config(other)));
    assert.deepEqual(await f.reload(), { ok: true });
    const h2 = await handshake(port, {});
    assert.ok(namesOf(h2.cert).includes('other.test'), namesOf(h2.cert).join(','));
    h2.socket.destroy();
  });

  test('with two workers, a session ticket issued by one resumes on the others (shared ticket key)', async () => {
    const spawned = await spawnFulcrum(
      testConfig({ workers: 2, listeners: [tlsListener([main])], pools: { p: { backends: [{ url: backend.url }] } } }),
    );
    try {
      const port = spawned.ports[0]!;
      const first = await handshake(port, { servername: 'main.test' });
      const session = await new Promise<Buffer>((resolve) => {
        first.socket.once('session', resolve);
        first.socket.write('GET / HTTP/1.1\r\nhost: main.test\r\n\r\n');
      });
      first.socket.destroy();
      // Connections are spread over both workers by the primary (round robin): eight in a row meet both.
      for (let i = 0; i < 8; i++) {
        const again = await handshake(port, { servername: 'main.test', session });
        assert.equal(again.socket.isSessionReused(), true, `connection ${i} resumed`);
        again.socket.destroy();
      }
    } finally {
      await spawned.stop();
    }
  });
});

