/**
 * A raw TCP backend that records exactly the bytes Fulcrum sent it and reads them with llhttp, the parser inside
 * node:http, in strict mode: the requests a real backend would see, one per message llhttp finds, whatever the
 * header list claimed. Each request is answered as `respond` says (by default 200 with "METHOD URL" as body).
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
// @ts-expect-error: node's internal parser binding has no types; node:http itself parses with it.
import { HTTPParser, methods } from '_http_common';

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
    const parser = requestParser(socket, backend);
    socket.on('data', (data: Buffer) => {
      received.push(data);
      const result = parser.execute(data);
      if (result instanceof Error) {
        backend.parseErrors.push(`${(result as Error & { code?: string }).code ?? ''} ${result.message}`);
        socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backend.port = (server.address() as AddressInfo).port;
  backend.url = `http://127.0.0.1:${backend.port}`;
  return backend;
}

function requestParser(socket: net.Socket, backend: RecordingBackend): { execute(data: Buffer): number | Error } {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {}, 0, 0);
  let headers: string[] = [];
  let url = '';
  let method = '';
  let body: Buffer[] = [];
  // llhttp hands long header lists over in parts before the head completes.
  parser[HTTPParser.kOnHeaders] = (part: string[], partUrl: string) => {
    headers.push(...part);
    url += partUrl;
  };
  parser[HTTPParser.kOnHeadersComplete] = (_maj: number, _min: number, all: string[] | undefined, m: number, u: string | undefined) => {
    if (all !== undefined) headers = all;
    if (u !== undefined) url = u;
    method = methods[m] as string;
    return 0;
  };
  parser[HTTPParser.kOnBody] = (chunk: Buffer) => body.push(Buffer.from(chunk));
  parser[HTTPParser.kOnMessageComplete] = () => {
    const req: ReceivedRequest = { method, url, headers, body: Buffer.concat(body) };
    headers = [];
    url = '';
    body = [];
    backend.requests.push(req);
    const reply = backend.respond(req, socket);
    if (reply !== undefined) socket.write(reply);
  };
  return parser;
}

/** A field's values in a flat list, by lower-case name. */
export function fieldValues(headers: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) out.push(headers[i + 1]!);
  return out;
}
