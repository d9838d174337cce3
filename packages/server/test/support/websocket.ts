/**
 * A minimal WebSocket echo backend (RFC 6455) on a free loopback port: the handshake on node:http's 'upgrade'
 * event, then each text frame is answered with `<name>:<payload>`. Enough for tunnels, with no dependency.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** RFC 6455 §1.3 */
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface WebSocketBackend {
  readonly name: string;
  readonly url: string;
  /** Heads of the upgrade requests received. */
  readonly upgrades: http.IncomingHttpHeaders[];
  /** Open tunnels. */
  readonly open: Set<Socket>;
  /** TCP connections open now (tunnels and plain keep-alive ones), and the most ever open at once. */
  connections(): number;
  readonly peakConnections: number;
  /** When set, upgrades are refused with this status and body. */
  refuse: { status: number; body: string } | undefined;
  close(): Promise<void>;
}

export function acceptKey(key: string): string {
  return createHash('sha1').update(key + WS_GUID).digest('base64');
}

/** A frame from the server: never masked (RFC 6455 §5.1); payloads under 64 KiB. */
function frame(opcode: number, payload: Buffer): Buffer {
  const head = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length]) : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, payload]);
}

interface Frame {
  readonly opcode: number;
  readonly payload: Buffer;
  readonly size: number;
}

/** The first whole frame of `buf` (client frames are masked), or undefined when more bytes are needed. */
function parseFrame(buf: Buffer): Frame | undefined {
  if (buf.length < 2) return undefined;
  const opcode = buf[0]! & 0x0f;
  const masked = (buf[1]! & 0x80) !== 0;
  let length = buf[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return undefined;
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return undefined;
    length = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  const maskAt = offset;
  if (masked) offset += 4;
  if (buf.length < offset + length) return undefined;
  const payload = Buffer.from(buf.subarray(offset, offset + length));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buf[maskAt + (i % 4)]!;
  return { opcode, payload, size: offset + length };
}

/** `host`: the loopback address to listen on ('::1' for an IPv6 backend, whose URL then has brackets). */
export async function startWebSocketBackend(name: string, host = '127.0.0.1'): Promise<WebSocketBackend> {
  const sockets = new Set<Socket>();
  const open = new Set<Socket>();
  const upgrades: http.IncomingHttpHeaders[] = [];
  const backend = { refuse: undefined as WebSocketBackend['refuse'], peak: 0 };
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(name);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    backend.peak = Math.max(backend.peak, sockets.size);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
    upgrades.push(req.headers);
    const key = req.headers['sec-websocket-key'];
    if (backend.refuse !== undefined || typeof key !== 'string') {
      const { status, body } = backend.refuse ?? { status: 400, body: 'not a websocket request' };
      socket.end(`HTTP/1.1 ${status} Refused\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${acceptKey(key)}\r\n\r\n`,
    );
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on('end', () => socket.end()); // node:http leaves an upgraded socket half-open: a client that left is gone
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (let f = parseFrame(pending); f !== undefined; f = parseFrame(pending)) {
        pending = pending.subarray(f.size);
        if (f.opcode === 0x1) socket.write(frame(0x1, Buffer.from(`${name}:${f.payload.toString()}`)));
        else if (f.opcode === 0x9) socket.write(frame(0xa, f.payload));
        else if (f.opcode === 0x8) {
          socket.end(frame(0x8, f.payload)); // RFC 6455 §5.5.1: answer a close with a close, then close TCP
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    upgrades,
    open,
    connections: () => sockets.size,
    get peakConnections() {
      return backend.peak;
    },
    get refuse() {
      return backend.refuse;
    },
    set refuse(r) {
      backend.refuse = r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Whether this machine can listen on the IPv6 loopback (some containers have IPv6 off). */
export async function hasIpv6Loopback(): Promise<boolean> {
  const server = http.createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => server.close(() => resolve()));
  return ok;
}

/** A WebSocket upgrade request by node:http, to see a refusal (the WebSocket API hides the status). */
export function upgradeRequest(url: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, {
      agent: false,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode!, text: '' });
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
  });
}
