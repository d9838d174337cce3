import assert from 'node:assert/strict';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { closedPort, startBackend, type TestBackend } from '../support/backend.ts';
import { makeCa, makeCertBetween } from '../support/certs.ts';
import { copyFile, mkdir } from 'node:fs/promises';
import { eventually, spawnFulcrum, startFulcrum, testConfig, type InProcessFulcrum } from '../support/fulcrum.ts';
import { startPebble, type TestPebble } from '../support/pebble.ts';
import { startRedis } from '../support/redis.ts';
import { RedisAcmeShare } from '../../src/acme/redis-share.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { handshake, httpsGet, namesOf } from '../support/tls-client.ts';
import type { ConfigInput } from '../../src/config/schema.ts';

let backend: TestBackend;
const running: Array<{ stop(): Promise<unknown> }> = [];

before(async () => {
  backend = await startBackend('acme-backend');
});
after(async () => {
  for (const r of running.reverse()) await r.stop();
  await backend.close();
});

interface Setup {
  readonly pebble: TestPebble;
  readonly httpPort: number;
  readonly tlsPort: number;
  readonly storage: string;
}

async function setup(): Promise<Setup> {
  const [httpPort, tlsPort] = [await closedPort(), await closedPort()];
  const pebble = await startPebble({ http: httpPort, tls: tlsPort });
  running.push(pebble);
  return { pebble, httpPort, tlsPort, storage: await mkdtemp(join(tmpdir(), 'fulcrum-acme-')) };
}

function acmeConfig(s: Setup, domains: string[], challenges: Array<'http-01' | 'tls-alpn-01'>, plain = true): ConfigInput {
  return testConfig({
    listeners: [
      { listen: `127.0.0.1:${s.tlsPort}`, tls: { acme: true } },
      ...(plain ? [{ listen: `127.0.0.1:${s.httpPort}`, redirect_https: true }] : []),
    ],
    acme: {
      directory: s.pebble.directory,
      terms_of_service_agreed: true,
      domains,
      storage: s.storage,
      challenges,
      ca_certificates: s.pebble.apiCa.certFile,
      retry: { min: '200ms', max: '1s' },
    },
    pools: { p: { backends: [{ url: backend.url }] } },
  });
}

async function startWith(config: ConfigInput): Promise<InProcessFulcrum> {
  const { listeners, acme, ...rest } = config;
  const f = await startFulcrum({ ...rest, listeners, acme, pools: config.pools });
  running.push(f);
  return f;
}

/** Waits until the TLS listener serves a certificate for `name` that chains to Pebble's root. */
async function servedFor(port: number, name: string, root: string): Promise<void> {
  await eventually(
    async () => {
      const h = await handshake(port, { servername: name, ca: root, rejectUnauthorized: true }).catch(() => undefined);
      h?.socket.destroy();
      return h !== undefined && h.socket.authorized && namesOf(h.cert).includes(name);
    },
    30_000,
    `a certificate for ${name} from Pebble`,
  );
}

describe('ACME (against a local Pebble)', () => {
  test('obtains a certificate with HTTP-01 on the plain listener, serves it, and keeps its key with mode 0600', async () => {
    const s = await setup();
    const name = 'http01.fulcrum.test';
    const f = await startWith(acmeConfig(s, [name], ['http-01']));
    const root = await s.pebble.root();
    await servedFor(f.ports[0]!, name, root);
    const res = await httpsGet(f.ports[0]!, '/through', { ca: root, servername: name });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'acme-backend');
    const key = await stat(join(s.storage, 'certificates', name, 'key.pem'));
    assert.equal(key.mode & 0o777, 0o600);
    assert.equal((await stat(join(s.storage, 'account.key'))).mode & 0o777, 0o600);
    assert.match(s.pebble.output(), /validate w\/ HTTP/, 'Pebble validated over HTTP');
  });

  test('obtains a certificate with TLS-ALPN-01 on the TLS listener alone', async () => {
    const s = await setup();
    const name = 'alpn.fulcrum.test';
    const f = await startWith(acmeConfig(s, [name], ['tls-alpn-01'], false));
    await servedFor(f.ports[0]!, name, await s.pebble.root());
    assert.ok(f.logs.some((l) => l.msg === 'acme: certificate in service' && l['domain'] === name));
  });

  test('a certificate on disk is served at start without asking the CA again', async () => {
    const s = await setup();
    const name = 'stored.fulcrum.test';
    const first = await startWith(acmeConfig(s, [name], ['http-01']));
    const root = await s.pebble.root();
    await servedFor(first.ports[0]!, name, root);
    await first.stop();
    running.splice(running.indexOf(first), 1);
    await s.pebble.stop(); // the CA is gone: only the disk can answer now
    const second = await startWith(acmeConfig(s, [name], ['http-01']));
    await servedFor(second.ports[0]!, name, root);
    assert.ok(!second.logs.some((l) => l.msg === 'acme: ordering a certificate'), 'no new order');
  });

  test('a stored certificate past its renewal point is served at once, then replaced by a renewed one', async () => {
    const s = await setup();
    const name = 'renew.fulcrum.test';
    const day = 86_400_000;
    const old = await makeCertBetween(await makeCa('Old CA'), name, Date.now() - 80 * day, Date.now() + 10 * day); // 89% gone
    await mkdir(join(s.storage, 'certificates', name), { recursive: true });
    await copyFile(old.certFile, join(s.storage, 'certificates', name, 'cert.pem'));
    await copyFile(old.keyFile, join(s.storage, 'certificates', name, 'key.pem'));
    const f = await startWith(acmeConfig(s, [name], ['http-01']));
    const first = await handshake(f.ports[0]!, { servername: name });
    first.socket.destroy();
    assert.match(String(first.cert.issuer.CN), /Old CA|Pebble/, 'a certificate from the start, not a refused handshake');
    await servedFor(f.ports[0]!, name, await s.pebble.root());
    const renewed = await handshake(f.ports[0]!, { servername: name });
    renewed.socket.destroy();
    assert.match(String(renewed.cert.issuer.CN), /Pebble/);
    assert.ok(Date.parse(renewed.cert.valid_to) > Date.now() + 30 * day);
  });

  test('with two workers, the primary orders once and every worker serves the certificate', async () => {
    const s = await setup();
    const name = 'workers.fulcrum.test';
    const f = await spawnFulcrum({ ...acmeConfig(s, [name], ['http-01', 'tls-alpn-01']), workers: 2 });
    running.push(f);
    const root = await s.pebble.root();
    await servedFor(f.ports[0]!, name, root);
    for (let i = 0; i < 6; i++) {
      const h = await handshake(f.ports[0]!, { servername: name, ca: root, rejectUnauthorized: true });
      h.socket.destroy();
    }
    assert.equal(f.output().split('acme: ordering a certificate').length - 1, 1, 'one order');
  });

  test('instances sharing a Redis cache share certificates: a second instance adopts the first one\'s, without ordering', async () => {
    const s = await setup();
    const redis = await startRedis();
    running.push(redis);
    const name = 'shared.fulcrum.test';
    const cache = { store: 'redis' as const, redis: { url: redis.url } };
    const first = await startWith({ ...acmeConfig(s, [name], ['http-01']), cache });
    const root = await s.pebble.root();
    await servedFor(first.ports[0]!, name, root);
    const firstCert = (await handshake(first.ports[0]!, { servername: name })).cert;
    // Another machine: its own ports and disk, the same Redis. Pebble validates only the first's ports, so an order
    // of its own would fail: serving the certificate proves it came through Redis.
    const other: Setup = { ...s, httpPort: 0, tlsPort: 0, storage: await mkdtemp(join(tmpdir(), 'fulcrum-acme-')) };
    const config = { ...acmeConfig(other, [name], ['http-01']), cache };
    config.listeners = [{ listen: '127.0.0.1:0', tls: { acme: true } }, { listen: '127.0.0.1:0' }];
    const second = await startWith(config);
    await servedFor(second.ports[0]!, name, root);
    const secondCert = (await handshake(second.ports[0]!, { servername: name })).cert;
    assert.equal(secondCert.serialNumber, firstCert.serialNumber, 'the same certificate');
    assert.ok(!second.logs.some((l) => l.msg === 'acme: ordering a certificate'), 'no order of its own');
    assert.ok(second.logs.some((l) => l.msg === 'acme: certificate in service' && l['source'] === 'from-peer'));
  });

  test('the shared order lock is held by one instance at a time and released only by its holder', async () => {
    const redis = await startRedis();
    running.push(redis);
    const log = createLogger('silent');
    const a = new RedisAcmeShare(redis.url, 'test:', log);
    const b = new RedisAcmeShare(redis.url, 'test:', log);
    try {
      assert.equal(await a.lock('x.test'), true);
      assert.equal(await b.lock('x.test'), false);
      await b.unlock('x.test'); // not b's lock: stays
      assert.equal(await b.lock('x.test'), false);
      await a.unlock('x.test');
      assert.equal(await b.lock('x.test'), true);
      assert.equal(await a.fetch('x.test'), undefined);
      await b.publish('x.test', { cert: 'C', key: 'K' });
      assert.deepEqual(await a.fetch('x.test'), { cert: 'C', key: 'K' });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
