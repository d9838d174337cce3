/**
 * The reference for a cache hit: a bare node:http responder that writes one stored response (header list and
 * 1 KB body built once, as a cache entry would hold them) for every request, with no lookup at all. What a
 * Node cache could reach at best on this machine.
 *
 * Usage: node bench/servers/stored-response.ts --port 8001
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { BODY } from '../lib/body.ts';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0) throw new Error(`--port: not a port: ${values.port}`);

// A flat [name, value, ...] list, as a cache stores a response's header fields.
const STORED_HEADERS = [
  'content-type',
  'text/plain',
  'content-length',
  String(BODY.length),
  'cache-control',
  'max-age=3600',
];

const server = http.createServer((_req, res) => {
  res.writeHead(200, STORED_HEADERS);
  res.end(BODY);
});
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1');

process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
