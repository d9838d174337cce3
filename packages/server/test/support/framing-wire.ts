/**
 * Raw-socket ends for the forwarded-bytes tests (issue 13): a backend that records every byte Fulcrum sends it
 * and reads them with llhttp in strict mode, as a node:http backend would; a hostile backend that answers with
 * whatever bytes a test gives it; and a client that writes a raw stream and reads the answers with llhttp.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ReferenceParser, type ParsedMessage } from './llhttp.ts';

/** One connection Fulcrum opened to the recording backend: its bytes, and llhttp's reading of them. */
export interface RecordedConnection {
  readonly bytes: Buffer[];
  readonly parser: ReferenceParser;
}

export interface RawBackend {
  readonly port: number;
  readonly url: string;
  readonly connections: RecordedConnection[];
  /** Every complete request, across connections, in the order they completed. */
  readonly requests: ParsedMessage[];
  close(): Promise<void>;
}

/** Raw response bytes for a request, or undefined to answer nothing. */
export type Respond = (request: ParsedMessage) => string | undefined;

/** The recording backend: how it answers can be changed while it runs. */
export interface RecordingBackend extends RawBackend {
  respond: Respond;
}

/** 200, the target echoed in X-Target and as the body (none for HEAD). */
const echoTarget: Respond = (m) =>
  `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(m.target)}\r\nX-Target: ${m.target}\r\n\r\n${m.method === 'HEAD' ? '' : m.target}`;

async function listen(onSocket: (socket: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/**
 * Answers every request it parses as `respond` says (by default 200, its target echoed in X-Target and the body),
 * as a node:http server in strict mode would read them; a stream llhttp refuses gets a 400 and the connection closed.
 */
export async function startRecordingBackend(respond: Respond = echoTarget): Promise<RecordingBackend> {
  const connections: RecordedConnection[] = [];
  const requests: ParsedMessage[] = [];
  const server = await listen((socket) => {
    const parser = new ReferenceParser('request', {
      onComplete: (m) => {
        requests.push(m);
        const reply = backend.respond(m);
        if (reply !== undefined) socket.write(reply, 'latin1');
        if (!m.keepAlive) socket.end();
      },
    });
    const conn: RecordedConnection = { bytes: [], parser };
    connections.push(conn);
    socket.on('data', (data: Buffer) => {
      conn.bytes.push(data);
      parser.push(data);
      if (parser.error !== undefined && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    // EOF mid-request is Fulcrum aborting a request it refused part-way: not a framing error, so not parsed.
  });
  const backend: RecordingBackend = { port: server.port, url: `http://127.0.0.1:${server.port}`, connections, requests, respond, close: server.close };
  return backend;
}

/** A field's values in a flat list, by lower-case name. */
export function fieldValues(headers: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) out.push(headers[i + 1]!);
  return out;
}

/** What the hostile backend does for one request target. */
export interface HostileAnswer {
  readonly pieces: readonly Buffer[];
  /** Close the connection once the answer is sent. */
  readonly close: boolean;
}

export interface HostileBackend extends RawBackend {
  /** How many times each target reached it. */
  readonly hits: Map<string, number>;
}

/** Answers with `answer(target)`'s bytes as they are; a target it has no answer for gets `next:<target>`. */
export async function startHostileBackend(answer: (target: string) => HostileAnswer | undefined): Promise<HostileBackend> {
  const connections: RecordedConnection[] = [];
  const requests: ParsedMessage[] = [];
  const hits = new Map<string, number>();
  const server = await listen((socket) => {
    const parser = new ReferenceParser('request', {
      onComplete: (m) => {
        requests.push(m);
        hits.set(m.target, (hits.get(m.target) ?? 0) + 1);
        const hostile = answer(m.target);
        if (hostile === undefined) {
          const body = `next:${m.target}`;
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 'latin1');
          return;
        }
        for (const piece of hostile.pieces) socket.write(piece);
        if (hostile.close) socket.end();
      },
    });
    const conn: RecordedConnection = { bytes: [], parser };
    connections.push(conn);
    socket.on('data', (data: Buffer) => {
      conn.bytes.push(data);
      parser.push(data);
    });
  });
  return { port: server.port, url: `http://127.0.0.1:${server.port}`, connections, requests, hits, close: server.close };
}

/** What a raw client got back. */
export interface ClientResult {
  /** Responses read by llhttp, 1xx excluded. */
  readonly responses: ParsedMessage[];
  /** llhttp's complaint about Fulcrum's answers, if any. */
  readonly error: string | undefined;
  /** How it ended: Fulcrum closed, the client stopped once it had what it waited for, or gave up. */
  readonly end: 'closed' | 'enough' | 'timed out';
}

export interface ClientOptions {
  /** Whether the answer at this index is to a HEAD (no body). */
  readonly noBody: (index: number) => boolean;
  /** Stop once this many complete final responses arrived (the connection may stay open). */
  readonly enough: number;
  readonly timeoutMs: number;
}

/** Writes `pieces` on a new connection, one write each, and reads what comes back. */
export function rawClient(port: number, pieces: readonly Buffer[], options: ClientOptions): Promise<ClientResult> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const parser = new ReferenceParser('response', { noBody: options.noBody });
    const finals = () => parser.messages.filter((m) => m.complete && (m.status >= 200 || m.status === 101));
    let settled = false;
    const finish = (end: ClientResult['end']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // No parser.end(): Fulcrum never frames an answer to an HTTP/1.1 client by closing, so EOF only cuts one.
      socket.destroy();
      parser.close();
      resolve({ responses: parser.messages.filter((m) => m.status >= 200 || m.status === 101), error: parser.error, end });
    };
    const timer = setTimeout(() => finish('timed out'), options.timeoutMs);
    socket.on('data', (data: Buffer) => {
      parser.push(data);
      if (options.enough > 0 && finals().length >= options.enough) finish('enough');
    });
    socket.on('error', () => {}); // a reset is an ending like a close
    socket.on('close', () => finish('closed'));
    socket.on('connect', async () => {
      for (const piece of pieces) {
        if (socket.destroyed) return;
        socket.write(piece);
        // Let each piece leave as a segment of its own, as a slow client's would.
        await new Promise((r) => setImmediate(r));
      }
    });
  });
}

/** Runs `work` over `items` with at most `concurrency` at once. */
export async function inParallel<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
