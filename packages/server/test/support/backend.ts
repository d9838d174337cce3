/**
 * A real HTTP backend on a free loopback port, for tests: it counts what reaches it and can be told to be slow,
 * to fail, or to die. Every test talks to it through real sockets.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

export interface TestBackend {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly requests: SeenRequest[];
  /** Requests received, probes excluded. */
  count(): number;
  /** Replaces how it answers; the default echoes its name. */
  handle(handler: Handler): void;
  /** Delay before answering, in ms. */
  delay: number;
  /** Health probe status (GET /healthz). */
  healthStatus: number;
  /** Stops listening and destroys open sockets, as a crash would. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

const defaultHandler =
  (name: string): Handler =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name });
    res.end(name);
  };

export async function startBackend(name = 'backend', port = 0): Promise<TestBackend> {
  const sockets = new Set<Socket>();
  let handler = defaultHandler(name);
  const requests: SeenRequest[] = [];
  const state = { delay: 0, healthStatus: 200 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/healthz') {
        res.writeHead(state.healthStatus).end();
        return;
      }
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (state.delay > 0) setTimeout(() => handler(req, res, body), state.delay);
      else handler(req, res, body);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actualPort = (server.address() as AddressInfo).port;
  const stop = (destroy: boolean) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      if (destroy) for (const s of sockets) s.destroy();
      else server.closeIdleConnections();
    });
  return {
    name,
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    requests,
    count: () => requests.length,
    handle(h) {
      handler = h;
    },
    get delay() {
      return state.delay;
    },
    set delay(ms: number) {
      state.delay = ms;
    },
    get healthStatus() {
      return state.healthStatus;
    },
    set healthStatus(s: number) {
      state.healthStatus = s;
    },
    kill: () => stop(true),
    close: () => stop(true),
  };
}

export async function startBackends(n: number, prefix = 'b'): Promise<TestBackend[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => startBackend(`${prefix}${i}`)));
}

/** A port that was free a moment ago, and has nothing listening: connections to it are refused. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A loopback port whose connections never complete: a listener that never accepts, its one-slot backlog filled,
 * so further SYNs are dropped (a Python child, since Node always accepts). For connect timeouts.
 */
export async function startBlackhole(): Promise<{ port: number; close(): void }> {
  const { spawn } = await import('node:child_process');
  const script = [
    'import socket, time',
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
    'port = s.getsockname()[1]',
    'held = []',
    'for _ in range(4):',
    '    c = socket.socket(); c.setblocking(False)',
    "    try: c.connect(('127.0.0.1', port))",
    '    except BlockingIOError: pass',
    '    held.append(c)',
    'print(port, flush=True)',
    'time.sleep(60)',
  ].join('\n');
  const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('error', reject);
  });
  return { port, close: () => void child.kill('SIGKILL') };
}
