/**
 * A raw TCP backend that records exactly the bytes Fulcrum sent it and reads them with llhttp, the parser inside
 * node:http, in strict mode (llhttp.ts): the requests a real backend would see, one per message llhttp finds,
 * whatever the header list claimed. Each is answered as `respond` says (by default 200, "METHOD URL" as body);
 * framing-wire.ts has the fixed-answer variant the differential end-to-end tests share.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ReferenceParser } from './llhttp.ts';

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  /** Flat [name, value, …] as received. */
  readonly headers: readonly string[];
  readonly body: Buffer;
}

/** Raw response bytes for a request, or undefined to answer nothing (the test answers or closes). */
export type Respond = (req: ReceivedRequest, socket: net.Socket) => string | Buffer | undefined;

export interface RecordingBackend {
  readonly port: number;
  readonly url: string;
  /** Every request llhttp parsed, in arrival order, over all connections. */
  readonly requests: ReceivedRequest[];
  /** llhttp's errors (the bytes Fulcrum sent were not a valid request stream). */
  readonly parseErrors: string[];
  /** Everything received, per connection, in order. */
  readonly connections: Buffer[][];
  respond: Respond;
  close(): Promise<void>;
}

const echo: Respond = (req) => {
  const body = `${req.method} ${req.url}`;
  return `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
};

export async function startRecordingBackend(respond: Respond = echo): Promise<RecordingBackend> {
  const sockets = new Set<net.Socket>();
  const backend = {
    port: 0,
    url: '',
    requests: [] as ReceivedRequest[],
    parseErrors: [] as string[],
    connections: [] as Buffer[][],
    respond,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const received: Buffer[] = [];
    backend.connections.push(received);
    const parser = new ReferenceParser('request', {
      onComplete: (m) => {
        const req: ReceivedRequest = { method: m.method, url: m.target, headers: m.headers, body: m.body };
        backend.requests.push(req);
        const reply = backend.respond(req, socket);
        if (reply !== undefined) socket.write(reply);
      },
    });
    socket.on('data', (data: Buffer) => {
      received.push(data);
      parser.push(data);
      if (parser.error !== undefined && !socket.destroyed) {
        backend.parseErrors.push(parser.error);
        socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backend.port = (server.address() as AddressInfo).port;
  backend.url = `http://127.0.0.1:${backend.port}`;
  return backend;
}

/** A field's values in a flat list, by lower-case name. */
export function fieldValues(headers: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) out.push(headers[i + 1]!);
  return out;
}
