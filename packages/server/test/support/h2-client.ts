/** node:http2's client, for tests: one request on a session, its answer read whole. */
import http2, { type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';

export interface H2Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** `tls`: for https:// URLs, the CA to trust and the name to ask for (SNI). */
export function h2connect(url: string, tls: { ca?: string; servername?: string } = {}): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, tls);
    session.once('connect', () => {
      session.off('error', reject);
      session.on('error', () => {}); // a test that expects the session to end asserts on its requests
      resolve(session);
    });
    session.once('error', reject);
  });
}

/** Sends one request (`body`: written whole, or in the given pieces) and reads the answer. */
export function h2request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: string | Buffer | Array<string | Buffer>): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const endStream = body === undefined;
    const req = session.request(headers, { endStream });
    let status = 0;
    let head: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      head = h;
      status = Number(h[':status']);
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status, headers: head, body: Buffer.concat(chunks).toString() }));
    req.on('error', reject);
    if (Array.isArray(body)) {
      for (const piece of body) req.write(piece);
      req.end();
    } else if (body !== undefined) req.end(body);
  });
}
