/**
 * A client connection over a raw socket that reads responses one at a time, for tests that send several requests
 * (pipelined or not) on one connection and must see exactly what comes back on it.
 */
import net from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** Lower-case names; repeated fields joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The head as received, for assertions on framing. */
  readonly head: string;
  readonly body: string;
}

export class RawClient {
  readonly socket: net.Socket;
  private buffer = Buffer.alloc(0);
  private closed = false;
  private wake: (() => void) | undefined = undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.wake?.();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  static async open(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Whether the server closed the connection. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Reads the next response (Content-Length, chunked, or no body for 1xx/204/304 and `noBody`). */
  async response(timeoutMs = 5000, noBody = false): Promise<RawResponse> {
    const end = await this.until((b) => {
      const i = b.indexOf('\r\n\r\n');
      return i < 0 ? undefined : i;
    }, timeoutMs);
    const head = this.buffer.toString('latin1', 0, end);
    this.buffer = this.buffer.subarray(end + 4);
    const [statusLine, ...lines] = head.split('\r\n');
    const status = Number(statusLine!.slice(9, 12));
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let body = '';
    if (noBody || status < 200 || status === 204 || status === 304) body = '';
    else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = await this.chunkedBody(timeoutMs);
    else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      await this.until((b) => (b.length >= n ? n : undefined), timeoutMs);
      body = this.buffer.toString('latin1', 0, n);
      this.buffer = this.buffer.subarray(n);
    }
    return { status, headers, head, body };
  }

  /** The next `n` bytes (of a tunnel, after its 101 was read). */
  async bytes(n: number, timeoutMs = 5000): Promise<Buffer> {
    await this.until((b) => (b.length >= n ? n : undefined), timeoutMs);
    const out = Buffer.from(this.buffer.subarray(0, n));
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  /** Waits until the server closes the connection; resolves with what came after the last response read. */
  async closedWith(timeoutMs = 5000): Promise<string> {
    await this.until(() => (this.closed ? 0 : undefined), timeoutMs);
    return this.buffer.toString('latin1');
  }

  close(): void {
    this.socket.destroy();
  }

  private async chunkedBody(timeoutMs: number): Promise<string> {
    let body = '';
    for (;;) {
      const eol = await this.until((b) => {
        const i = b.indexOf('\r\n');
        return i < 0 ? undefined : i;
      }, timeoutMs);
      const size = parseInt(this.buffer.toString('latin1', 0, eol), 16);
      if (size === 0) {
        await this.until((b) => (b.indexOf('\r\n\r\n') >= 0 ? b.indexOf('\r\n\r\n') : undefined), timeoutMs);
        this.buffer = this.buffer.subarray(this.buffer.indexOf('\r\n\r\n') + 4);
        return body;
      }
      await this.until((b) => (b.length >= eol + 2 + size + 2 ? 0 : undefined), timeoutMs);
      body += this.buffer.toString('latin1', eol + 2, eol + 2 + size);
      this.buffer = this.buffer.subarray(eol + 2 + size + 2);
    }
  }

  /** Resolves with `check(buffer)` once it is defined; fails when the connection closes first or time runs out. */
  private async until(check: (b: Buffer) => number | undefined, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = check(this.buffer);
      if (found !== undefined) return found;
      if (this.closed) throw new Error(`connection closed; received so far: ${JSON.stringify(this.buffer.toString('latin1'))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; received so far: ${JSON.stringify(this.buffer.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
