/**
 * The least a Node proxy can do: node:http in front, one undici Pool per backend behind, round robin, and the
 * response streamed back through `Pool.dispatch` with undici 8's handler API (no `request()` wrapper objects).
 * A reference point for what Fulcrum's own pipeline costs on top. Usage: see ./args.ts.
 */
import http from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { HOP_BY_HOP, proxyArgs } from './args.ts';

const { port, backends } = proxyArgs();
const pools = backends.map(
  (origin) => new Pool(origin, { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 }),
);
let next = 0;

function forwardHeaders(headers: http.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

const server = http.createServer((req, res) => {
  const pool = pools[next++ % pools.length]!;
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  let controller: Dispatcher.DispatchController | undefined;
  res.on('close', () => {
    if (!res.writableFinished) controller?.abort(new Error('client went away'));
  });
  pool.dispatch(
    {
      path: req.url ?? '/',
      method: req.method as Dispatcher.HttpMethod,
      headers: forwardHeaders(req.headers),
      body: hasBody ? req : null,
    },
    {
      onRequestStart(c) {
        controller = c;
      },
      onResponseStart(_c, statusCode, headers) {
        res.writeHead(statusCode, forwardHeaders(headers));
      },
      onResponseData(c, chunk) {
        if (!res.write(chunk)) {
          c.pause();
          res.once('drain', () => c.resume());
        }
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError(_c, err) {
        if (res.headersSent) res.destroy(err);
        else res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n');
      },
    },
  );
});
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1');

process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void Promise.all(pools.map((p) => p.close()));
});
