/**
 * Requests Fulcrum originates itself (a stale-while-revalidate refresh) must carry their own framing: no body, so
 * no Content-Length or Transfer-Encoding, whatever the client request that triggered them carried. The backend here
 * is a raw TCP server that frames requests as a real one does (and, as nginx does for a static GET, answers at the
 * head and then discards the announced body), recording each request it parsed.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { rawExchange, statusOf } from '../support/client.ts';
import { eventually } from '../support/eventually.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

interface ParsedRequest {
  readonly line: string;
  /** Lower-case names. */
  readonly headers: ReadonlyMap<string, string>;
}

interface FramingBackend {
  readonly port: number;
  /** Every request the backend parsed, in order, across connections. */
  readonly requests: ParsedRequest[];
  /** How many times each path was answered, to tell the stored body from the refreshed one. */
  readonly served: Map<string, number>;
  close(): Promise<void>;
}

/**
 * Parses requests by Content-Length (chunked requests are answered 501 and closed: Fulcrum must not send any
 * here). `/swr*` answers a body that may be served stale and refreshed; anything else answers no-store.
 */
async function startFramingBackend(): Promise<FramingBackend> {
  const requests: ParsedRequest[] = [];
  const served = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    let discard = 0;
    socket.on('data', (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      for (;;) {
        if (discard > 0) {
          const n = Math.min(discard, buffered.length);
          discard -= n;
          buffered = buffered.subarray(n);
          if (discard > 0) return;
        }
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buffered.subarray(0, end).toString('latin1').split('\r\n');
        buffered = buffered.subarray(end + 4);
        const headers = new Map<string, string>();
        for (const l of lines.slice(1)) headers.set(l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim());
        requests.push({ line: lines[0]!, headers });
        const m = /^GET (\/\S*) HTTP\/1\.1$/.exec(lines[0]!);
        if (m === null || headers.has('transfer-encoding')) {
          socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
          return;
        }
        const path = m[1]!;
        const count = (served.get(path) ?? 0) + 1;
        served.set(path, count);
        const body = `${path} #${count}`;
        const cc = path.startsWith('/swr') ? (count === 1 ? 'max-age=0, stale-while-revalidate=60' : 'max-age=60') : 'no-store';
        // Answered at the head, before the announced body, as a static server does; the body is then discarded.
        socket.write(`HTTP/1.1 200 OK\r\ncache-control: ${cc}\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
        discard = Number(headers.get('content-length') ?? 0);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let backend: FramingBackend;
let fulcrum: InProcessFulcrum;

before(async () => {
  backend = await startFramingBackend();
  fulcrum = await startFulcrum({
    pools: { p: { backends: [{ url: `http://127.0.0.1:${backend.port}` }], retries: { attempts: 0 } } },
    routes: [{ match: {}, pool: 'p', cache: { ttl: '60s' } }],
  });
});

after(async () => {
  await fulcrum.stop();
  await backend.close();
});

const port = () => fulcrum.proxyPort;
const plainGet = (path: string) => rawExchange(port(), `GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);

describe('background refresh framing', () => {
  const triggers: Array<[string, (path: string) => string]> = [
    ['Content-Length: 0', (p) => `GET ${p} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`],
    ['a Content-Length body', (p) => `GET ${p} HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello`],
    ['a chunked body', (p) => `GET ${p} HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
  ];
  let n = 0;
  for (const [what, trigger] of triggers) {
    test(`issue 13 #3: a refresh triggered by a GET with ${what} carries no body framing, and the pooled connection stays in step`, async () => {
      const path = `/swr-${++n}`;
      const next = `/next-${n}`;
      const before = backend.requests.length;
      assert.match(await plainGet(path), /\/swr-\d+ #1$/); // stored, immediately stale within stale-while-revalidate
      const stale = await rawExchange(port(), trigger(path));
      assert.equal(statusOf(stale), 200);
      assert.match(stale, /#1$/, 'served stale');
      // The refresh (answered max-age=60) is stored once its response is whole, and its connection is back in the pool.
      await eventually(async () => /#2$/.test(await plainGet(path)), 5000, 'the refreshed entry');
      // The next request goes on that pooled connection: it must arrive as sent.
      assert.match(await plainGet(next), new RegExp(`${next} #1$`));
      const seen = backend.requests.slice(before);
      assert.deepEqual(
        seen.map((r) => r.line),
        [`GET ${path} HTTP/1.1`, `GET ${path} HTTP/1.1`, `GET ${next} HTTP/1.1`],
        'one request per client request that went to the backend, each intact',
      );
      const refresh = seen[1]!;
      assert.equal(refresh.headers.get('content-length'), undefined);
      assert.equal(refresh.headers.get('transfer-encoding'), undefined);
    });
  }
});
