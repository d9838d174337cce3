/**
 * One backend for the balance benchmark: answers after `--fast-ms`, except a `--slow-share` of its requests
 * (drawn from a seeded generator, so runs are comparable) which take `--slow-ms`. The `x-backend` header says
 * who answered, so the client can count each backend's share.
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
    seed: { type: 'string', default: '1' },
  },
});

const name = values.name;
const port = Number(values.port);
const fastMs = Number(values['fast-ms']);
const slowMs = Number(values['slow-ms']);
const slowShare = Number(values['slow-share']);
if (!Number.isInteger(port) || port <= 0) throw new Error(`--port: not a port: ${values.port}`);
const random = seededRandom(Number(values.seed));

const body = Buffer.from(`${name}\n`);
const headers = { 'content-type': 'text/plain', 'content-length': String(body.length), 'x-backend': name };

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200).end();
    return;
  }
  const delay = slowShare > 0 && random.next() < slowShare ? slowMs : fastMs;
  setTimeout(() => {
    res.writeHead(200, headers);
    res.end(body);
  }, delay);
});
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1');

process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
