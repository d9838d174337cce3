/** One plain HTTP GET on a fresh connection, for pre-checks: status, headers and the whole body. */
import http from 'node:http';

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export function get(url: string, headers: http.OutgoingHttpHeaders = {}, timeoutMs = 3000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Resolves when `url` answers 200 with exactly `body`; otherwise rejects saying what came back instead. */
export async function expectBody(url: string, body: Buffer): Promise<void> {
  const reply = await get(url);
  if (reply.status !== 200) {
    throw new Error(`GET ${url}: status ${reply.status}: ${reply.body.toString('utf8', 0, 200)}`);
  }
  if (!reply.body.equals(body)) {
    throw new Error(`GET ${url}: expected a ${body.length}-byte body, got ${reply.body.length} bytes`);
  }
}
