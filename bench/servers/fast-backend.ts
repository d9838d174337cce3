/**
 * Throughput backends when nginx is not installed: one process answering `200` with the 1 KB body on every
 * port given. Usage: node bench/servers/fast-backend.ts PORT...
 */
import http from 'node:http';
import { BODY } from '../lib/body.ts';

const HEADERS = { 'content-type': 'text/plain', 'content-length': String(BODY.length) };

const servers = process.argv.slice(2).map((arg) => {
  const port = Number(arg);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`not a port: ${arg}`);
  const server = http.createServer((_req, res) => {
    res.writeHead(200, HEADERS);
    res.end(BODY);
  });
  // Longer than any client's idle time, so that proxies' pooled connections are not closed under them.
  server.keepAliveTimeout = 75_000;
  server.listen(port, '127.0.0.1');
  return server;
});

process.on('SIGTERM', () => {
  for (const s of servers) s.close();
  for (const s of servers) s.closeAllConnections();
});
