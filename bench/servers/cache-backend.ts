/**
 * The cache benchmark's Node backend: the 1 KB body after `--delay-ms` (0: at once), `Cache-Control: no-store`
 * under /nostore and `max-age=3600` everywhere else, like the nginx backend (lib/nginx.ts). It serves as the
 * 5 ms backend, and as the only backend when nginx is missing. GET /__requests answers the number of requests
 * received so far, that one included, as nginx's stub_status counts them.
 *
 * Usage: node bench/servers/cache-backend.ts --port 8001 [--delay-ms 5]
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { BODY } from '../lib/body.ts';
import { REQUEST_COUNT_PATH } from '../lib/nginx.ts';

const { values } = parseArgs({ options: { port: { type: 'string' }, 'delay-ms': { type: 'string', default: '0' } } });
const port = Number(values.port);
const delayMs = Number(values['delay-ms']);
if (!Number.isInteger(port) || port <= 0) throw new Error(`--port: not a port: ${values.port}`);
if (!Number.isFinite(delayMs) || delayMs < 0) throw new Error(`--delay-ms: not a delay: ${values['delay-ms']}`);

const headersFor = (cacheControl: string) => ({
  'content-type': 'text/plain',
  'content-length': String(BODY.length),
  'cache-control': cacheControl,
});
const CACHED = headersFor('max-age=3600');
const NO_STORE = headersFor('no-store');

let requests = 0;
const server = http.createServer((req, res) => {
  requests++;
  const url = req.url ?? '/';
  if (url === REQUEST_COUNT_PATH) {
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end(`${requests}\n`);
    return;
  }
  const headers = url.startsWith('/nostore') ? NO_STORE : CACHED;
  const answer = () => res.writeHead(200, headers).end(BODY);
  if (delayMs > 0) setTimeout(answer, delayMs);
  else answer();
});
// Longer than any client's idle time, so that proxies' pooled connections are not closed under them.
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1');

process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
