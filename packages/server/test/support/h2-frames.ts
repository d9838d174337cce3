/**
 * A raw HTTP/2 client for attack tests: writes frames byte by byte on a plain or TLS socket (what node:http2's client
 * will not send: HEADERS without END_HEADERS followed by endless CONTINUATIONs, SETTINGS and PINGs without reading
 * the answers, streams past the limit) and reads what the server sends back, frame by frame.
 * HPACK here is literal fields without indexing and without Huffman coding (RFC 7541 §6.2.2): valid, and simple.
 */
import net from 'node:net';
import tls from 'node:tls';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;

/** RFC 9113 §7. */
export const ErrorCode = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, REFUSED_STREAM: 7, CANCEL: 8, COMPRESSION_ERROR: 9, ENHANCE_YOUR_CALM: 11 } as const;

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** RFC 7541 §5.1: an integer with an N-bit prefix. */
function integer(n: number, prefixBits: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (n < max) return [n];
  const out = [max];
  n -= max;
  while (n >= 128) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A header block of literal fields, never indexed. */
export function hpack(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    const n = Buffer.from(name, 'latin1');
    const v = Buffer.from(value, 'latin1');
    parts.push(Buffer.from([0x00, ...integer(n.length, 7)]), n, Buffer.from(integer(v.length, 7)), v);
  }
  return Buffer.concat(parts);
}

export function requestHead(path = '/', extra: ReadonlyArray<readonly [string, string]> = [], method = 'GET'): Buffer {
  return hpack([[':method', method], [':scheme', 'http'], [':authority', 'fulcrum.test'], [':path', path], ...extra]);
}

export const rstStream = (stream: number, code: number) => frame(FrameType.RST_STREAM, 0, stream, u32(code));
export const settingsAck = () => frame(FrameType.SETTINGS, Flag.ACK, 0);

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export interface ReceivedFrame {
  readonly type: number;
  readonly flags: number;
  readonly stream: number;
  readonly payload: Buffer;
}

/** A raw connection: the preface and an empty SETTINGS sent, every frame received kept in order. */
export class RawH2 {
  readonly socket: net.Socket;
  readonly frames: ReceivedFrame[] = [];
  readonly closed: Promise<void>;
  private pending = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    this.closed.then(() => this.wake());
  }

  /** `tls`: over TLS, agreeing h2 by ALPN (the CA to trust and the name to ask for). */
  static async connect(port: number, opts: { ackSettings?: boolean; tls?: { ca: string; servername: string } } = {}): Promise<RawH2> {
    const socket =
      opts.tls === undefined
        ? net.connect(port, '127.0.0.1')
        : tls.connect({ host: '127.0.0.1', port, ca: opts.tls.ca, servername: opts.tls.servername, ALPNProtocols: ['h2'] });
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tls === undefined ? 'connect' : 'secureConnect', resolve);
      socket.once('error', reject);
    });
    if (socket instanceof tls.TLSSocket && socket.alpnProtocol !== 'h2') throw new Error(`ALPN agreed ${String(socket.alpnProtocol)}`);
    const raw = new RawH2(socket);
    socket.write(Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0)]));
    await raw.until((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0, 'the server SETTINGS');
    if (opts.ackSettings !== false) socket.write(settingsAck());
    return raw;
  }

  /** Writes and resolves once the socket took the bytes (or failed: the server may have closed already). */
  write(data: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(data, () => resolve());
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  /** The GOAWAY received, if any: its error code. */
  goaway(): number | undefined {
    const f = this.frames.find((x) => x.type === FrameType.GOAWAY);
    return f?.payload.readUInt32BE(4);
  }

  resets(): Map<number, number> {
    const out = new Map<number, number>();
    for (const f of this.frames) if (f.type === FrameType.RST_STREAM) out.set(f.stream, f.payload.readUInt32BE(0));
    return out;
  }

  /** Response heads received (HEADERS frames), by stream. */
  responseStreams(): Set<number> {
    return new Set(this.frames.filter((f) => f.type === FrameType.HEADERS).map((f) => f.stream));
  }

  /** Waits for a frame matching `test` (among those received already, too); rejects if the connection closes first. */
  async until(test: (f: ReceivedFrame) => boolean, what: string): Promise<ReceivedFrame> {
    for (;;) {
      const found = this.frames.find(test);
      if (found !== undefined) return found;
      if (this.socket.destroyed) throw new Error(`connection closed before ${what}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(data: Buffer): void {
    let buf = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    while (buf.length >= 9) {
      const length = buf.readUIntBE(0, 3);
      if (buf.length < 9 + length) break;
      this.frames.push({ type: buf[3]!, flags: buf[4]!, stream: buf.readUInt32BE(5) & 0x7fffffff, payload: Buffer.from(buf.subarray(9, 9 + length)) });
      buf = buf.subarray(9 + length);
    }
    this.pending = Buffer.from(buf);
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
