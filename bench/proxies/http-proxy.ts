/** node-http-proxy (npm http-proxy) with a keep-alive agent, round robin over the backends. Usage: ./args.ts. */
import http from 'node:http';
import httpProxy from 'http-proxy';
import { proxyArgs } from './args.ts';

const { port, backends } = proxyArgs();
// Without an agent, http-proxy sends `connection: close` and opens a connection per request.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64, keepAliveMsecs: 60_000 });
const proxy = httpProxy.createProxyServer({ agent, xfwd: false });
let next = 0;

proxy.on('error', (_err, _req, res) => {
  if (res instanceof http.ServerResponse && !res.headersSent) {
    res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n');
  } else {
    res.destroy();
  }
});

const server = http.createServer((req, res) => {
  proxy.web(req, res, { target: backends[next++ % backends.length] });
});
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1');

process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  agent.destroy();
});
