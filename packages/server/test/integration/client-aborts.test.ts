/** Clients that go away at every moment of an exchange must cost nothing but their own request. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { startBackends, type TestBackend } from '../support/backend.ts';
import { eventually } from '../support/eventually.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

let backends: TestBackend[] = [];
let fulcrum: InProcessFulcrum | undefined;
after(async () => {
  await fulcrum?.stop();
  for (const b of backends) await b.close();
});

/** Sends `count` requests on fresh connections, each destroyed after `cutAfterBytes` of the answer (0: at once). */
async function abandon(port: number, count: number, cutAfterBytes: (i: number) => number): Promise<void> {
  await Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        new Promise<void>((resolve) => {
          const socket = net.connect(port, '127.0.0.1');
          let received = 0;
          socket.on('connect', () => {
            socket.write(`GET /x${i} HTTP/1.1\r\nHost: t\r\n\r\n`);
            if (cutAfterBytes(i) === 0) socket.destroy();
          });
          socket.on('data', (d: Buffer) => {
            received += d.length;
            if (received >= cutAfterBytes(i)) socket.destroy();
          });
          socket.on('close', () => resolve());
          socket.on('error', () => {});
        }),
    ),
  );
}

test('clients that hang up before, during and right after their response leave Fulcrum serving with nothing in flight', async () => {
  backends = await startBackends(2);
  // A body in several writes, so that a client can leave mid-body as well as at its end.
  for (const b of backends) {
    b.handle((_req, res) => {
      res.writeHead(200, { 'content-length': 3000 });
      res.write('a'.repeat(1000));
      setImmediate(() => {
        res.write('b'.repeat(1000));
        res.end('c'.repeat(1000));
      });
    });
  }
  fulcrum = await startFulcrum({ pools: { p: { backends: backends.map((b) => ({ url: b.url })) } } });
  const port = fulcrum.proxyPort;
  for (let round = 0; round < 3; round++) {
    await abandon(port, 150, (i) => [0, 1, 200, 1500, 2900, 3100][i % 6]!);
  }
  const res = await fetch(`${fulcrum.url}/after`);
  assert.equal(res.status, 200);
  assert.equal((await res.text()).length, 3000);
  await eventually(async () => {
    const [pool] = (await (await fetch(`${fulcrum!.adminUrl}/api/pools`)).json()) as Array<{ backends: Array<{ inFlight: number }> }>;
    return pool!.backends.every((b) => b.inFlight === 0);
  }, 5000, 'nothing in flight');
  assert.ok(!fulcrum.logs.some((l) => l.level >= 50), `no error logged: ${JSON.stringify(fulcrum.logs.filter((l) => l.level >= 50))}`);
});
