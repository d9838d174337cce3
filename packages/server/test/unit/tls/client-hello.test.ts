import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { describe, test } from 'node:test';
import { MAX_HELLO_BYTES, readClientHello } from '../../../src/tls/client-hello.ts';

/** The first bytes a real node:tls client sends: its ClientHello record(s). */
async function realHello(options: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<Buffer>((resolve) =>
    server.once('connection', (s) => {
      let data = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        data = Buffer.concat([data, d]);
        if (readClientHello(data).kind !== 'partial') {
          s.destroy();
          resolve(data);
        }
      });
    }),
  );
  const client = tls.connect({ host: '127.0.0.1', port, ...options });
  client.on('error', () => {});
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

/** Splits one record's handshake message into two records, as RFC 8446 §5.1 allows. */
function fragment(hello: Buffer, at: number): Buffer {
  const body = hello.subarray(5);
  const record = (part: Buffer) => Buffer.concat([Buffer.from([22, 3, 1, part.length >> 8, part.length & 0xff]), part]);
  return Buffer.concat([record(body.subarray(0, at)), record(body.subarray(at))]);
}

describe('readClientHello', () => {
  test('reads the server name and the offered protocols of a real hello', async () => {
    const hello = await realHello({ servername: 'Shop.Example', ALPNProtocols: ['acme-tls/1', 'http/1.1'] });
    assert.deepEqual(readClientHello(hello), { kind: 'hello', servername: 'shop.example', alpn: ['acme-tls/1', 'http/1.1'] });
  });

  test('a hello without SNI or ALPN has neither', async () => {
    const hello = await realHello({});
    assert.deepEqual(readClientHello(hello), { kind: 'hello', servername: undefined, alpn: [] });
  });

  test('is partial until the whole hello has come, however it was cut, and across records', async () => {
    const hello = await realHello({ servername: 'a.test' });
    for (const cut of [1, 4, 5, 9, 60, hello.length - 1]) assert.equal(readClientHello(hello.subarray(0, cut)).kind, 'partial', `cut at ${cut}`);
    const split = fragment(hello, 50);
    assert.equal(readClientHello(split.subarray(0, 60)).kind, 'partial');
    assert.deepEqual(readClientHello(split), { kind: 'hello', servername: 'a.test', alpn: [] });
  });

  test('plain HTTP, a hello claiming more than the limit and truncated extensions are invalid, never a throw', async () => {
    assert.equal(readClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n')).kind, 'invalid');
    const huge = Buffer.from([22, 3, 1, 0, 8, 1, 0xff, 0xff, 0xff, 3, 3, 0, 0]);
    assert.equal(readClientHello(huge).kind, 'invalid');
    const hello = await realHello({ servername: 'a.test' });
    for (let i = 44; i < hello.length; i += 7) { // any byte of the body mangled: a verdict, not an exception
      const mangled = Buffer.from(hello);
      mangled[i] = 0xff;
      assert.doesNotThrow(() => readClientHello(mangled));
    }
    assert.equal(readClientHello(Buffer.alloc(MAX_HELLO_BYTES + 64, 22)).kind, 'invalid');
  });
});
