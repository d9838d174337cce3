/**
 * One backend for the balance benchmark: answers after `--fast-ms`, except a `--slow-share` of its requests
 * (drawn from a seeded generator, so runs are comparable) which take `--slow-ms`. The `x-backend` header says
 * who answered, so the client can count each backend's share; `GET /__requests` gives the count of requests
 * served so far, for clients (wrk) that do not read headers.
 *
 * Two ways of being slow, which a balancer must tell apart:
 * - `--workers 0` (the default): every request is answered after its delay, however many are in flight (a
 *   timer each), as a backend that waits on something else does; more concurrency costs it nothing.
 * - `--workers N`: N requests are worked on at once and the others wait in a FIFO queue, as a Python server
 *   with N workers does; latency then grows with the requests in flight.
 * `--status 503` answers every request with that status (at once with `--fast-ms 0`): a backend failing fast.
 *
 * Usage: node bench/servers/balance-backend.ts --name slow --port 8001 --fast-ms 2 --slow-ms 20 --slow-share 0.5
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { seededRandom } from '../../packages/server/src/time.ts';

const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'backend' },
    port: { type: 'string' },
    'fast-ms': { type: 'string', default: '2' },
    'slow-ms': { type: 'string', default: '20' },
    'slow-share': { type: 'string', default: '0' },
    workers: { type: 'string', default: '0' },
    status: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
  },
});

const name = values.name;
const port = Number(values.port);
const fastMs = Number(values['fast-ms']);
const slowMs = Number(values['slow-ms']);
const slowShare = Number(values['slow-share']);
const workers = Number(values.workers);
const status = Number(values.status);
if (!Number.isInteger(port) || port <= 0) throw new Error(`--port: not a port: ${values.port}`);
if (!Number.isInteger(workers) || workers < 0) throw new Error(`--workers: not a count: ${values.workers}`);
const random = seededRandom(Number(values.seed));

const body = Buffer.from(`${name}\n`);
const headers = { 'content-type': 'text/plain', 'content-length': String(body.length), 'x-backend': name };
let served = 0;
let busy = 0;
const queue: (() => void)[] = [];

function answer(res: http.ServerResponse): void {
  served++;
  res.writeHead(status, headers);
  res.end(body);
}

/** With workers: run `work` when a worker is free, then free the worker for the next one in the queue. */
function whenFree(work: (done: () => void) => void): void {
  const run = () => {
    busy++;
    work(() => {
      busy--;
      queue.shift()?.();
    });
  };
  if (busy < workers) run();
  else queue.push(run);
}

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200).end();
    return;
  }
  if (req.url === '/__requests') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(String(served));
    return;
  }
  const delay = slowShare > 0 && random.next() < slowShare ? slowMs : fastMs;
  if (workers === 0) {
    if (delay <= 0) answer(res);
    else setTimeout(answer, delay, res);
    return;
  }
  whenFree((done) =>
    setTimeout(() => {
      answer(res);
      done();
    }, delay),
  );
});
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1');

process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
