import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startBackends, type TestBackend } from '../support/backend.ts';
import { request } from '../support/client.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';
import { runLoad } from '../support/load.ts';

let backends: TestBackend[] = [];
let fulcrum: InProcessFulcrum | undefined;
after(async () => {
  await fulcrum?.stop();
  for (const b of backends) await b.close();
});

test('with least-load, a backend whose responses report it busy receives far less traffic than its idle peers', async () => {
  backends = await startBackends(3, 'll');
  backends.forEach((b, i) =>
    b.handle((_req, res) => {
      const utilization = i === 2 ? '1.0' : '0.1';
      res.writeHead(200, { 'x-fulcrum-load': `inflight=${i === 2 ? 8 : 1}, utilization=${utilization}` });
      res.end(b.name);
    }),
  );
  fulcrum = await startFulcrum({ pools: { p: { algorithm: 'least-load', backends: backends.map((b) => ({ url: b.url })) } } });
  const result = await runLoad({ url: `${fulcrum.url}/`, concurrency: 4, total: 600 });
  assert.equal(result.ok(), 600);
  const busy = backends[2]!.count();
  const idle = Math.min(backends[0]!.count(), backends[1]!.count());
  // The busy one is tried until its first report arrives, then only when its own share is the least.
  assert.ok(busy < idle / 5, `busy ${busy}, idle ${backends[0]!.count()} and ${backends[1]!.count()}`);
  const reply = await request(`${fulcrum.url}/`);
  assert.equal(reply.headers['x-fulcrum-load'], undefined, 'the report is for Fulcrum: clients never see it');
});
